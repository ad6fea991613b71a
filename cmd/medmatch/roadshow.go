package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/medmatch/medmatch"
	"github.com/medmatch/medmatch/indexer"
	"github.com/medmatch/medmatch/matcher"
	"github.com/medmatch/medmatch/matcher/roadshow"
)

func init() {
	commands = append(commands, command{"roadshow", "list | plan EVENT_ID [flags]", "list roadshow events; plan one (select, recommend, schedule)", runRoadshow})
}

func runRoadshow(ctx context.Context, std IO, args []string) error {
	var c common
	fs := newFlags("roadshow", "list | plan EVENT_ID [flags]", `
list   the roadshow events (GET /api/v1/events)
plan   screens the candidate projects with the event's rubric, selects the
       projects to present (coverage of the invited enterprises, diversity
       caps, pins and excludes), recommends projects to each enterprise and
       schedules the one-on-one meetings; the plan is stored as a new
       version (GET /api/v1/events/{id}/plan). Goes through the server when
       one runs.`, std.Err)
	c.register(fs)
	jsonOut := fs.Bool("json", false, "print the plan as JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 || (pos[0] == "plan" && len(pos) != 2) || (pos[0] == "list" && len(pos) != 1) || (pos[0] != "plan" && pos[0] != "list") {
		return usagef("want `medmatch roadshow list` or `medmatch roadshow plan EVENT_ID` (see --help)")
	}
	if err := checkRedis(); err != nil {
		return err
	}
	tgt, err := connect(ctx, c.data)
	if err != nil {
		return err
	}
	defer tgt.Close()
	organizer := medmatch.Viewer{Role: medmatch.RoleOrganizer, KeyID: "cli"}
	if pos[0] == "list" {
		var events []*medmatch.Event
		if tgt.remote != nil {
			var out struct{ Items []*medmatch.Event }
			if err := tgt.remote.do(ctx, http.MethodGet, "/api/v1/events", nil, "", &out); err != nil {
				return err
			}
			events = out.Items
		} else if events, err = tgt.store.Events(ctx, organizer); err != nil {
			return err
		}
		for _, e := range events {
			fmt.Fprintf(std.Out, "%s\t%s\t%s\t%d invited\t%d slots\t%s\n", e.ID, e.Date, e.Status, len(e.Invited), len(e.Slots), e.Title)
		}
		return nil
	}
	id := pos[1]
	var raw []byte
	if tgt.remote != nil {
		var out json.RawMessage
		if err := tgt.remote.do(ctx, http.MethodPost, "/api/v1/events/"+url.PathEscape(id)+"/plan", nil, "", &out); err != nil {
			return err
		}
		raw = out
	} else {
		ix, _, err := tgt.localIndex(ctx, c.data, "", indexer.Options{NoSuggestions: true})
		if err != nil {
			return err
		}
		defer ix.Close()
		m, err := matcher.New(ctx, tgt.store, ix, matcher.Options{})
		if err != nil {
			return err
		}
		pl := &roadshow.Planner{Store: tgt.store, Matcher: m}
		p, err := pl.Plan(ctx, organizer, id)
		if err != nil {
			return err
		}
		if raw, err = json.Marshal(p); err != nil {
			return err
		}
		if err := tgt.store.PutArtifact(ctx, organizer, &medmatch.Artifact{Name: roadshow.PlanArtifact(id), Data: raw}); err != nil {
			return err
		}
	}
	if *jsonOut {
		var b bytes.Buffer
		json.Indent(&b, raw, "", "  ")
		b.WriteByte('\n')
		_, err := std.Out.Write(b.Bytes())
		return err
	}
	var p roadshow.Plan
	if err := json.Unmarshal(raw, &p); err != nil {
		return err
	}
	printPlan(std.Out, &p)
	return nil
}

func printPlan(w io.Writer, p *roadshow.Plan) {
	fmt.Fprintf(w, "event %s (version %d): %d candidate projects, %d passed the rubric; %d selected; objective %.3f (%s)\n",
		p.EventID, p.EventVersion, p.Candidates, p.Passed, len(p.Selected), p.Objective, p.Guarantee)
	for i, s := range p.Selected {
		pin := ""
		if s.Pinned {
			pin = " [pinned]"
		}
		fmt.Fprintf(w, "\n%2d. %s %s%s\n    %s · %s · rubric %.2f · gain %.3f\n", i+1, s.AchievementID, s.Title, pin, s.Institution, s.Specialty, s.Rubric.Score, s.Gain)
		var names []string
		for _, e := range s.Serves {
			names = append(names, fmt.Sprintf("%s (%.2f)", e.Name, e.Match))
		}
		if len(names) > 0 {
			fmt.Fprintf(w, "    serves: %s\n", strings.Join(names, ", "))
		}
	}
	sc := p.Schedule
	opt := "not proven optimal"
	if sc.Optimal {
		opt = "proven optimal"
	}
	fmt.Fprintf(w, "\nschedule: %d meetings; fewest per enterprise %d (bound %d, %s); value %.2f of at most %.2f (gap %.1f%%)\n",
		len(sc.Meetings), sc.Min, sc.MinBound, opt, sc.Value, sc.UpperBound, 100*sc.Gap)
	bySlot := map[string][]string{}
	var starts []string
	for _, m := range sc.Meetings {
		if _, ok := bySlot[m.Start]; !ok {
			starts = append(starts, m.Start)
		}
		bySlot[m.Start] = append(bySlot[m.Start], fmt.Sprintf("T%d %s×%s", m.Table, m.EnterpriseID, m.AchievementID))
	}
	sort.Strings(starts)
	for _, s := range starts {
		fmt.Fprintf(w, "  %s  %s\n", s, strings.Join(bySlot[s], "  "))
	}
	for _, u := range sc.Unplaced {
		fmt.Fprintf(w, "  unplaced %s×%s: %s\n", u.EnterpriseID, u.AchievementID, u.Reason)
	}
}

