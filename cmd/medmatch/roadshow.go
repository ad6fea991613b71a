package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/medmatch/medmatch"
	"github.com/medmatch/medmatch/matcher/roadshow"
)

func init() {
	commands = append(commands, command{"roadshow", "list | plan EVENT_ID | export EVENT_ID --out FILE [flags]", "list roadshow events; plan one (select, recommend, schedule); export its plan", runRoadshow})
}

func runRoadshow(ctx context.Context, std IO, args []string) error {
	var c common
	fs := newFlags("roadshow", "list | plan EVENT_ID | export EVENT_ID --out FILE [flags]", `
list    the roadshow events (GET /api/v1/events)
plan    screens the candidate projects with the event's rubric, selects the
        projects to present (coverage of the invited enterprises, diversity
        caps, pins and excludes), recommends projects to each enterprise and
        schedules the one-on-one meetings; the plan is stored as a new
        version (GET /api/v1/events/{id}/plan)
export  writes the newest stored plan (planning first if there is none) to
        --out: FILE.xlsx a workbook (推介项目, 企业日程, 项目日程, 时段桌位),
        FILE.csv one of those tables (--sheet, default 企业日程), FILE.html
        the printable agenda, one page per enterprise
Goes through the server when one runs.`, std.Err)
	c.register(fs)
	jsonOut := fs.Bool("json", false, "print the plan as JSON")
	outFile := fs.String("out", "", "export: the file to write (.xlsx, .csv or .html)")
	sheet := fs.String("sheet", "", "export to CSV: the table ("+strings.Join(roadshow.Sheets, ", ")+")")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	wantArgs := map[string]int{"list": 1, "plan": 2, "export": 2}
	if len(pos) == 0 || wantArgs[pos[0]] != len(pos) {
		return usagef("want `medmatch roadshow list`, `medmatch roadshow plan EVENT_ID` or `medmatch roadshow export EVENT_ID --out FILE` (see --help)")
	}
	format := ""
	if pos[0] == "export" {
		switch {
		case *outFile == "":
			return usagef("--out is required: FILE.xlsx, FILE.csv or FILE.html")
		case strings.HasSuffix(*outFile, ".xlsx"):
			format = "xlsx"
		case strings.HasSuffix(*outFile, ".csv"):
			format = "csv"
		case strings.HasSuffix(*outFile, ".html"):
			format = "html"
		default:
			return usagef("--out %s: cannot tell the format; end it in .xlsx, .csv or .html", *outFile)
		}
		if *sheet != "" && format != "csv" {
			return usagef("--sheet goes with a .csv --out")
		}
		if *sheet != "" && !slices.Contains(roadshow.Sheets, *sheet) {
			return usagef("--sheet %q: want one of %s", *sheet, strings.Join(roadshow.Sheets, ", "))
		}
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
	if pos[0] == "export" {
		return exportPlan(ctx, std, tgt, &c, id, format, *sheet, *outFile)
	}
	var raw []byte
	if tgt.remote != nil {
		var out json.RawMessage
		if err := tgt.remote.do(ctx, http.MethodPost, "/api/v1/events/"+url.PathEscape(id)+"/plan", nil, "", &out); err != nil {
			return err
		}
		raw = out
	} else {
		p, err := planLocally(ctx, tgt, c.data, id)
		if err != nil {
			return err
		}
		if raw, err = json.Marshal(p); err != nil {
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

// exportPlan writes the newest stored plan of event id (planning it first
// when there is none) in format to file.
func exportPlan(ctx context.Context, std IO, tgt *target, c *common, id, format, sheet, file string) error {
	var data []byte
	if tgt.remote != nil {
		q := url.Values{"format": {format}}
		if sheet != "" {
			q.Set("sheet", sheet)
		}
		path := "/api/v1/events/" + url.PathEscape(id) + "/export?" + q.Encode()
		err := tgt.remote.do(ctx, http.MethodGet, path, nil, "", &data)
		if me, ok := err.(*medmatch.Error); ok && me.Code == medmatch.ENOTFOUND && me.Field == "plan" {
			if err := tgt.remote.do(ctx, http.MethodPost, "/api/v1/events/"+url.PathEscape(id)+"/plan", nil, "", nil); err != nil {
				return err
			}
			err = tgt.remote.do(ctx, http.MethodGet, path, nil, "", &data)
		}
		if err != nil {
			return err
		}
	} else {
		organizer := medmatch.Viewer{Role: medmatch.RoleOrganizer, KeyID: "cli"}
		ev, err := tgt.store.Event(ctx, organizer, id)
		if err != nil {
			return err
		}
		var p roadshow.Plan
		a, err := tgt.store.Artifact(ctx, roadshow.PlanArtifact(id), 0)
		switch {
		case err == nil:
			if err := json.Unmarshal(a.Data, &p); err != nil {
				return err
			}
		case medmatch.ErrorCode(err) == medmatch.ENOTFOUND:
			pp, err := planLocally(ctx, tgt, c.data, id)
			if err != nil {
				return err
			}
			p = *pp
		default:
			return err
		}
		var b bytes.Buffer
		switch format {
		case "xlsx":
			err = roadshow.WriteXLSX(&b, ev, &p)
		case "csv":
			if sheet == "" {
				sheet = roadshow.SheetEnterprises
			}
			err = roadshow.WriteCSV(&b, ev, &p, sheet)
		default:
			err = roadshow.WriteHTML(&b, ev, &p)
		}
		if err != nil {
			return err
		}
		data = b.Bytes()
	}
	if err := os.WriteFile(file, data, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(std.Out, "wrote %s (%d bytes)\n", file, len(data))
	return nil
}

// planLocally plans event id with the store this command holds and stores
// the plan as a new version, as POST /api/v1/events/{id}/plan does.
func planLocally(ctx context.Context, tgt *target, data, id string) (*roadshow.Plan, error) {
	organizer := medmatch.Viewer{Role: medmatch.RoleOrganizer, KeyID: "cli"}
	m, _, closeIndex, err := tgt.localMatcher(ctx, data, "", nil)
	if err != nil {
		return nil, err
	}
	defer closeIndex()
	p, err := (&roadshow.Planner{Store: tgt.store, Matcher: m}).Plan(ctx, organizer, id)
	if err != nil {
		return nil, err
	}
	raw, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	return p, tgt.store.PutArtifact(ctx, organizer, &medmatch.Artifact{Name: roadshow.PlanArtifact(id), Data: raw, Note: fmt.Sprintf("event version %d", p.EventVersion)})
}
