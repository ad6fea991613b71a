package roadshow

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/medmatch/medmatch"
	"github.com/medmatch/medmatch/indexer"
	"github.com/medmatch/medmatch/matcher"
)

// Planner plans events: screening, selection, per-enterprise
// recommendations and the meeting schedule.
type Planner struct {
	Store   medmatch.Store
	Matcher *matcher.Matcher
	Now     func() time.Time
	// PerEnterprise is how many candidate projects each invited
	// enterprise brings (its top K); default 20.
	PerEnterprise int
	// RubricWeight weighs a project's rubric score against covering one
	// enterprise; default 0.25 per invited enterprise per presented
	// project (see Objective).
	RubricWeight float64
	// MinMatch is the least match value (0–1) for a recommendation or a
	// planned meeting; default 0.2.
	MinMatch float64
}

// Plan is the outcome of planning an event.
type Plan struct {
	EventID      string    `json:"event_id"`
	EventVersion int64     `json:"event_version"`
	At           time.Time `json:"at"`
	// Candidates is how many projects the invited enterprises' top matches
	// brought; Passed how many passed the rubric's hard filters.
	Candidates int                `json:"candidates"`
	Passed     int                `json:"passed"`
	Rejected   []RejectedProject  `json:"rejected,omitempty"` // the best-matching ones that failed, and why
	Selected   []SelectedProject  `json:"selected"`
	Objective  float64            `json:"objective"`
	Guarantee  string             `json:"guarantee"`
	Agenda     []EnterpriseAgenda `json:"agenda"` // per invited enterprise
	Schedule   PlanSchedule       `json:"schedule"`
	// Expired lists the requests this run expired; Changes the meetings of
	// the previous plan that moved or were dropped, and why.
	Expired []ExpiredRequest `json:"expired,omitempty"`
	Changes []MeetingChange  `json:"changes,omitempty"`
	TookMS  int64            `json:"took_ms"`
}

// ExpiredRequest is a request that waited longer than the event allows.
type ExpiredRequest struct {
	EnterpriseID  string    `json:"enterprise_id"`
	AchievementID string    `json:"achievement_id"`
	RequestedAt   time.Time `json:"requested_at"`
}

// MeetingChange is a meeting of the previous plan that is not where it
// was: moved (To set) or dropped (Reason says why).
type MeetingChange struct {
	EnterpriseID  string `json:"enterprise_id"`
	AchievementID string `json:"achievement_id"`
	FromSlot      int    `json:"from_slot"`
	FromTable     int    `json:"from_table"`
	ToSlot        *int   `json:"to_slot,omitempty"`
	ToTable       *int   `json:"to_table,omitempty"`
	Reason        string `json:"reason,omitempty"`
}

// RejectedProject is a candidate that failed the rubric.
type RejectedProject struct {
	AchievementID string   `json:"achievement_id"`
	Title         string   `json:"title"`
	Failed        []string `json:"failed"`
}

// SelectedProject is a presented project and why.
type SelectedProject struct {
	AchievementID string               `json:"achievement_id"`
	Title         string               `json:"title"`
	Institution   string               `json:"institution"`
	Specialty     string               `json:"specialty"`
	Pinned        bool                 `json:"pinned,omitempty"`
	Gain          float64              `json:"gain"` // what it added to the objective when chosen
	Rubric        Screening            `json:"rubric"`
	Serves        []ServedBy           `json:"serves"` // enterprises for which it is the best project (match ≥ MinMatch)
	Explanation   *matcher.Explanation `json:"-"`
}

// ServedBy is an enterprise a project serves.
type ServedBy struct {
	EnterpriseID string   `json:"enterprise_id"`
	Name         string   `json:"name"`
	Match        float64  `json:"match"`
	Terms        []string `json:"terms,omitempty"`
}

// EnterpriseAgenda is one invited enterprise's recommended projects and
// meetings.
type EnterpriseAgenda struct {
	EnterpriseID    string           `json:"enterprise_id"`
	Name            string           `json:"name"`
	Recommendations []Recommendation `json:"recommendations"`
}

// Recommendation is a presented project worth meeting, with reasons.
type Recommendation struct {
	AchievementID string   `json:"achievement_id"`
	Title         string   `json:"title"`
	Match         float64  `json:"match"`
	Reasons       []string `json:"reasons"`
	Requested     string   `json:"requested,omitempty"` // the enterprise's request status, if it asked
}

// PlanSchedule is the schedule of a plan, by ids and slot times.
type PlanSchedule struct {
	Meetings   []PlannedMeeting `json:"meetings"`
	Unplaced   []UnplacedReason `json:"unplaced,omitempty"`
	Min        int              `json:"min_meetings"`
	MinBound   int              `json:"min_bound"`
	Optimal    bool             `json:"optimal"`
	Value      float64          `json:"value"`
	UpperBound float64          `json:"upper_bound"`
	Gap        float64          `json:"gap"`
}

// PlannedMeeting is one meeting in the plan.
type PlannedMeeting struct {
	Slot          int     `json:"slot"` // 0-based
	Start         string  `json:"start"`
	Table         int     `json:"table"` // 1-based
	EnterpriseID  string  `json:"enterprise_id"`
	AchievementID string  `json:"achievement_id"`
	Requested     bool    `json:"requested"`
	Value         float64 `json:"value"`
}

// UnplacedReason is a wanted meeting the schedule could not hold.
type UnplacedReason struct {
	EnterpriseID  string `json:"enterprise_id"`
	AchievementID string `json:"achievement_id"`
	Reason        string `json:"reason"`
}

// PlanArtifact is the Store artifact holding an event's plans, one
// version per planning run.
func PlanArtifact(eventID string) string { return "plan-" + eventID }

// requestBonus makes an accepted request worth more than any
// recommendation of the planner's own.
const requestBonus = 1.0

// Plan plans event id as viewer v (staff).
func (pl *Planner) Plan(ctx context.Context, v medmatch.Viewer, id string) (*Plan, error) {
	start := time.Now()
	if !v.Staff() {
		if v.Anonymous() {
			return nil, medmatch.Errorf(medmatch.EUNAUTHORIZED, "", "an organizer key is needed to plan an event")
		}
		return nil, medmatch.Errorf(medmatch.EFORBIDDEN, "", "only organizers plan events")
	}
	ev, err := pl.Store.Event(ctx, v, id)
	if err != nil {
		return nil, err
	}
	// Unanswered requests past the event's TTL expire (and are stored so),
	// instead of holding a place.
	expired, err := pl.expire(ctx, v, ev)
	if err != nil {
		return nil, err
	}
	k := pl.PerEnterprise
	if k <= 0 {
		k = 20
	}
	minMatch := pl.MinMatch
	if minMatch <= 0 {
		minMatch = 0.2
	}
	out := &Plan{EventID: ev.ID, EventVersion: ev.Version, At: pl.now(), Selected: []SelectedProject{}, Agenda: []EnterpriseAgenda{}, Expired: expired}

	// Hard filters inside every candidate query: the rubric's and the pool's.
	filters := map[string][]string{}
	if ev.Rubric.MinMaturity != "" {
		for _, m := range medmatch.Maturities {
			if m.Rank() >= ev.Rubric.MinMaturity.Rank() {
				filters["maturity"] = append(filters["maturity"], string(m))
			}
		}
	}
	for _, s := range ev.Rubric.IPStatuses {
		filters["ip_status"] = append(filters["ip_status"], string(s))
	}
	var within *indexer.Request
	if ev.Pool.Query != "" || len(ev.Pool.Filters) > 0 {
		within = &indexer.Request{Query: ev.Pool.Query, Filters: ev.Pool.Filters, Kinds: []medmatch.Kind{medmatch.KindAchievement}}
	}

	// Each invited enterprise's top K.
	ents := make([]*medmatch.Enterprise, len(ev.Invited))
	demands := make([][]*medmatch.Demand, len(ev.Invited))
	type cand struct {
		rec   *medmatch.Achievement
		index int
	}
	byID := map[string]*cand{}
	var order []string
	matches := make([]map[string]*matcher.Match, len(ev.Invited))
	byEnt, err := pl.openDemands(ctx, v)
	if err != nil {
		return nil, err
	}
	texts := make([]string, len(ev.Invited))
	for i, inv := range ev.Invited {
		r, err := pl.Store.Get(ctx, v, medmatch.KindEnterprise, inv.EnterpriseID)
		if err != nil {
			return nil, fmt.Errorf("invited[%d]: %w", i, err)
		}
		ents[i] = r.(*medmatch.Enterprise)
		demands[i] = byEnt[inv.EnterpriseID]
		// What the enterprise wants: its open demands and its profile; the
		// event's theme only for an enterprise that says nothing itself
		// (otherwise the theme's words would pull every enterprise to the
		// same projects).
		var text strings.Builder
		for _, d := range demands[i] {
			text.WriteString(d.Title + "\n" + d.Description + "\n")
		}
		text.WriteString(ents[i].Profile)
		if strings.TrimSpace(text.String()) == "" {
			text.WriteString(ev.Theme)
		}
		body := []rune(text.String())
		if len(body) > matcher.MaxTextChars {
			body = body[:matcher.MaxTextChars]
		}
		texts[i] = string(body)
	}
	// Match the enterprises on every CPU; merge in invitation order.
	results := make([]*matcher.Result, len(ev.Invited))
	errs := make([]error, len(ev.Invited))
	var wg sync.WaitGroup
	next := make(chan int)
	for range min(len(texts), runtime.GOMAXPROCS(0)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				results[i], errs[i] = pl.Matcher.MatchCached(ctx, v, matcher.Request{Text: texts[i], Limit: k, Pool: 2 * k, Filters: filters, Within: within})
			}
		}()
	}
	for i := range texts {
		next <- i
	}
	close(next)
	wg.Wait()
	for i, res := range results {
		if errs[i] != nil {
			return nil, fmt.Errorf("match %s: %w", ev.Invited[i].EnterpriseID, errs[i])
		}
		matches[i] = map[string]*matcher.Match{}
		best := 0.0
		for j := range res.Matches {
			best = math.Max(best, res.Matches[j].Score)
		}
		for j := range res.Matches {
			m := &res.Matches[j]
			m.Score = matchValue(m.Score, best, res.Weights > 0)
			matches[i][m.ID] = m
			if _, ok := byID[m.ID]; !ok {
				byID[m.ID] = &cand{rec: m.Record.(*medmatch.Achievement)}
				order = append(order, m.ID)
			}
		}
	}
	// Pinned projects, and those of locked meetings, are candidates
	// whatever their matches.
	pins := append([]string(nil), ev.Pins...)
	for _, l := range ev.Locked {
		if !slices.Contains(pins, l.AchievementID) {
			pins = append(pins, l.AchievementID)
		}
	}
	for _, pid := range pins {
		if _, ok := byID[pid]; ok {
			continue
		}
		r, err := pl.Store.Get(ctx, v, medmatch.KindAchievement, pid)
		if err != nil {
			return nil, medmatch.Errorf(medmatch.EINVALID, "pins", "pinned %q: %v", pid, medmatch.ErrorMessage(err))
		}
		byID[pid] = &cand{rec: r.(*medmatch.Achievement)}
		order = append(order, pid)
	}
	sort.Strings(order)
	out.Candidates = len(order)

	// Screening.
	clinical, err := pl.clinicalValue(ctx, v)
	if err != nil {
		return nil, err
	}
	excluded := map[string]bool{}
	for _, x := range ev.Excludes {
		excluded[x] = true
	}
	prob := &Problem{N: ev.Projects, SpecialtyCap: ev.SpecialtyCap, InstitutionCap: ev.InstitutionCap}
	var screens []Screening
	var ids []string
	pinned := map[string]bool{}
	for _, p := range pins {
		pinned[p] = true
	}
	for _, pid := range order {
		a := byID[pid].rec
		s := Screen(ev.Rubric, a, Evidence{ClinicalValue: clinical[a.Specialty], PriceFit: priceFit(a, demands)})
		if !s.Pass && !pinned[pid] {
			out.Rejected = append(out.Rejected, RejectedProject{AchievementID: pid, Title: a.Title, Failed: s.Failed})
			continue
		}
		byID[pid].index = len(ids)
		ids = append(ids, pid)
		screens = append(screens, s)
		prob.Projects = append(prob.Projects, Project{ID: pid, Specialty: a.Specialty, Institution: a.Institution, Rubric: s.Score})
		if excluded[pid] {
			prob.Excludes = append(prob.Excludes, len(ids)-1)
		}
		if pinned[pid] {
			prob.Pins = append(prob.Pins, len(ids)-1)
		}
	}
	out.Passed = len(ids)
	sort.SliceStable(out.Rejected, func(i, j int) bool { return out.Rejected[i].AchievementID < out.Rejected[j].AchievementID })
	if len(out.Rejected) > 50 {
		out.Rejected = out.Rejected[:50]
	}
	prob.Match = make([][]float64, len(ev.Invited))
	for e := range ev.Invited {
		prob.Match[e] = make([]float64, len(ids))
		for pid, m := range matches[e] {
			if c, ok := byID[pid]; ok && (len(ids) > c.index && ids[c.index] == pid) {
				prob.Match[e][c.index] = m.Score
			}
		}
	}
	weight := pl.RubricWeight
	if weight <= 0 {
		weight = 0.25
	}
	prob.RubricWeight = weight * float64(len(ev.Invited)) / float64(max(1, ev.Projects))
	sel := Select(prob)
	out.Objective = sel.Objective
	out.Guarantee = guarantee(prob)
	served := prob.Served(sel.Picked)
	for n, j := range sel.Picked {
		a := byID[ids[j]].rec
		sp := SelectedProject{AchievementID: a.ID, Title: a.Title, Institution: a.Institution, Specialty: a.Specialty,
			Pinned: pinned[a.ID], Gain: sel.Gains[n], Rubric: screens[j], Serves: []ServedBy{}}
		for _, e := range served[j] {
			m := matches[e][a.ID]
			if m.Score < minMatch {
				continue // its best project, but not a good one
			}
			sp.Serves = append(sp.Serves, ServedBy{EnterpriseID: ents[e].ID, Name: ents[e].Name, Match: round3(m.Score), Terms: m.Explanation.Terms})
		}
		out.Selected = append(out.Selected, sp)
	}

	// Recommendations and the meetings to schedule.
	in := &ScheduleInput{Tables: make([]int, len(ev.Slots)), EntAvail: grid(len(ev.Invited), len(ev.Slots)), Quota: make([]int, len(ev.Invited))}
	for s, sl := range ev.Slots {
		in.Tables[s] = sl.Tables
	}
	col := map[string]int{}
	for n, j := range sel.Picked {
		col[ids[j]] = n
	}
	requested := map[[2]int]bool{}
	for e, inv := range ev.Invited {
		in.Quota[e] = inv.Quota
		if len(inv.Available) == 0 {
			for s := range ev.Slots {
				in.EntAvail[e][s] = true
			}
		}
		for _, s := range inv.Available {
			in.EntAvail[e][s] = true
		}
		status := map[string]string{}
		for _, r := range inv.Requests {
			status[r.AchievementID] = r.Status
		}
		ag := EnterpriseAgenda{EnterpriseID: ents[e].ID, Name: ents[e].Name, Recommendations: []Recommendation{}}
		for _, j := range sel.Picked {
			pid := ids[j]
			m := matches[e][pid]
			st := status[pid]
			if st == medmatch.RequestAccepted {
				value := requestBonus
				if m != nil {
					value += m.Score
				}
				in.Meetings = append(in.Meetings, Meeting{E: e, P: col[pid], Value: value})
				requested[[2]int{e, col[pid]}] = true
			}
			if m == nil || m.Score < minMatch {
				if st != "" {
					ag.Recommendations = append(ag.Recommendations, Recommendation{AchievementID: pid, Title: byID[pid].rec.Title, Requested: st, Reasons: []string{"requested by the enterprise"}})
				}
				continue
			}
			ag.Recommendations = append(ag.Recommendations, Recommendation{AchievementID: pid, Title: byID[pid].rec.Title,
				Match: round3(m.Score), Reasons: reasons(m), Requested: st})
			if st == "" || st == medmatch.RequestPending {
				in.Meetings = append(in.Meetings, Meeting{E: e, P: col[pid], Value: m.Score})
			}
		}
		sort.SliceStable(ag.Recommendations, func(a, b int) bool { return ag.Recommendations[a].Match > ag.Recommendations[b].Match })
		out.Agenda = append(out.Agenda, ag)
	}
	entIndex := map[string]int{}
	for e, inv := range ev.Invited {
		entIndex[inv.EnterpriseID] = e
	}
	for i, l := range ev.Locked {
		p, ok := col[l.AchievementID]
		if !ok {
			return nil, medmatch.Errorf(medmatch.EINVALID, fmt.Sprintf("locked[%d].achievement_id", i), "%q is not among the presented projects (it is excluded, or failed the rubric)", l.AchievementID)
		}
		e := entIndex[l.EnterpriseID]
		value := 0.0
		if m := matches[e][l.AchievementID]; m != nil {
			value = m.Score
		}
		in.Locked = append(in.Locked, Placed{E: e, P: p, Slot: l.Slot, Table: l.Table - 1, Value: value})
	}
	sched, err := PlanMeetings(in)
	if err != nil {
		return nil, medmatch.Errorf(medmatch.EINVALID, "locked", "%s", strings.TrimPrefix(err.Error(), "roadshow: "))
	}
	ps := PlanSchedule{Meetings: []PlannedMeeting{}, Min: sched.Min, MinBound: sched.MinBound, Optimal: sched.Optimal,
		Value: round3(sched.Value), UpperBound: round3(sched.UpperBound), Gap: round3(sched.Gap)}
	for _, m := range sched.Placed {
		ps.Meetings = append(ps.Meetings, PlannedMeeting{Slot: m.Slot, Start: ev.Slots[m.Slot].Start, Table: m.Table + 1,
			EnterpriseID: ents[m.E].ID, AchievementID: ids[sel.Picked[m.P]], Requested: requested[[2]int{m.E, m.P}], Value: round3(m.Value)})
	}
	for _, u := range sched.Unplaced {
		ps.Unplaced = append(ps.Unplaced, UnplacedReason{EnterpriseID: ents[u.E].ID, AchievementID: ids[sel.Picked[u.P]], Reason: u.Reason})
	}
	out.Schedule = ps
	if prev, err := pl.previous(ctx, v, ev.ID); err != nil {
		return nil, err
	} else if prev != nil {
		out.Changes = changes(prev, out, ev)
	}
	out.ApplyOrder(ev.Order)
	out.TookMS = time.Since(start).Milliseconds()
	return out, nil
}

// ApplyOrder puts the selected projects in the event's presentation
// order: those named in order first, in that order, the rest after in
// their present order.
func (p *Plan) ApplyOrder(order []string) {
	if len(order) == 0 {
		return
	}
	rank := map[string]int{}
	for i, id := range order {
		if _, dup := rank[id]; !dup {
			rank[id] = i
		}
	}
	pos := func(id string) int {
		if r, ok := rank[id]; ok {
			return r
		}
		return len(order)
	}
	sort.SliceStable(p.Selected, func(i, j int) bool { return pos(p.Selected[i].AchievementID) < pos(p.Selected[j].AchievementID) })
}

// expire marks pending requests older than the event's RequestTTL as
// expired and stores the event.
func (pl *Planner) expire(ctx context.Context, v medmatch.Viewer, ev *medmatch.Event) ([]ExpiredRequest, error) {
	if ev.RequestTTL == "" {
		return nil, nil
	}
	ttl, err := time.ParseDuration(ev.RequestTTL)
	if err != nil {
		return nil, err
	}
	now := pl.now()
	var out []ExpiredRequest
	for i := range ev.Invited {
		for j := range ev.Invited[i].Requests {
			r := &ev.Invited[i].Requests[j]
			if r.Status == medmatch.RequestPending && !r.At.IsZero() && now.Sub(r.At) > ttl {
				r.Status = medmatch.RequestExpired
				out = append(out, ExpiredRequest{EnterpriseID: ev.Invited[i].EnterpriseID, AchievementID: r.AchievementID, RequestedAt: r.At})
			}
		}
	}
	if len(out) > 0 {
		if err := pl.Store.PutEvent(ctx, v, ev); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// ExpireRequests expires, in every event v may write, the pending
// meeting requests that waited longer than the event's RequestTTL (the
// periodic job of the same name runs it; planning does it too). An event
// edited meanwhile is left for the next run. It returns how many requests
// expired.
func (pl *Planner) ExpireRequests(ctx context.Context, v medmatch.Viewer) (int, error) {
	evs, err := pl.Store.Events(ctx, v)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, ev := range evs {
		if ev.RequestTTL == "" || ev.Status == medmatch.EventClosed {
			continue
		}
		out, err := pl.expire(ctx, v, ev)
		if medmatch.ErrorCode(err) == medmatch.ECONFLICT {
			continue
		}
		if err != nil {
			return n, fmt.Errorf("expire requests of %s: %w", ev.ID, err)
		}
		n += len(out)
	}
	return n, nil
}

// previous returns the newest stored plan of the event, or nil.
func (pl *Planner) previous(ctx context.Context, v medmatch.Viewer, id string) (*Plan, error) {
	a, err := pl.Store.Artifact(ctx, PlanArtifact(id), 0)
	if medmatch.ErrorCode(err) == medmatch.ENOTFOUND {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	var p Plan
	if err := json.Unmarshal(a.Data, &p); err != nil {
		return nil, fmt.Errorf("roadshow: stored plan of %s: %w", id, err)
	}
	return &p, nil
}

// changes lists the previous plan's meetings that are not where they were.
func changes(prev, cur *Plan, ev *medmatch.Event) []MeetingChange {
	type key struct{ e, a string }
	now := map[key]PlannedMeeting{}
	for _, m := range cur.Schedule.Meetings {
		now[key{m.EnterpriseID, m.AchievementID}] = m
	}
	why := map[key]string{}
	for _, u := range cur.Schedule.Unplaced {
		why[key{u.EnterpriseID, u.AchievementID}] = u.Reason
	}
	selected := map[string]bool{}
	for _, s := range cur.Selected {
		selected[s.AchievementID] = true
	}
	var out []MeetingChange
	for _, m := range prev.Schedule.Meetings {
		k := key{m.EnterpriseID, m.AchievementID}
		c := MeetingChange{EnterpriseID: m.EnterpriseID, AchievementID: m.AchievementID, FromSlot: m.Slot, FromTable: m.Table}
		if n, ok := now[k]; ok {
			if n.Slot == m.Slot && n.Table == m.Table {
				continue
			}
			s, t := n.Slot, n.Table
			c.ToSlot, c.ToTable = &s, &t
			switch {
			case m.Slot >= len(ev.Slots):
				c.Reason = "its slot was removed"
			case m.Table > ev.Slots[m.Slot].Tables:
				c.Reason = "its table was removed"
			}
			out = append(out, c)
			continue
		}
		switch {
		case !selected[m.AchievementID]:
			c.Reason = "the project is no longer presented"
		case ev.Invitation(m.EnterpriseID) == nil:
			c.Reason = "the enterprise is no longer invited"
		case m.Slot >= len(ev.Slots):
			c.Reason = "its slot was removed; " + orDefault(why[k], "no other place")
		case m.Table > ev.Slots[m.Slot].Tables:
			c.Reason = "its table was removed; " + orDefault(why[k], "no other place")
		default:
			c.Reason = orDefault(why[k], "no longer recommended")
		}
		out = append(out, c)
	}
	return out
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

func (pl *Planner) now() time.Time {
	if pl.Now != nil {
		return pl.Now().UTC()
	}
	return time.Now().UTC()
}

// matchValue turns a match score into [0, 1]: with learned (calibrated)
// weights the chance the match is relevant, sigmoid(score); with the
// built-in weights, the score over the enterprise's best.
func matchValue(score, best float64, learned bool) float64 {
	if learned {
		return 1 / (1 + math.Exp(-score))
	}
	if best <= 0 {
		return 0
	}
	return math.Max(0, score/best)
}

func round3(x float64) float64 { return math.Round(x*1000) / 1000 }

// reasons are the top feature contributions and the shared key terms.
func reasons(m *matcher.Match) []string {
	fs := append([]matcher.Contribution(nil), m.Explanation.Features...)
	sort.SliceStable(fs, func(i, j int) bool { return fs[i].Contribution > fs[j].Contribution })
	var out []string
	for _, f := range fs[:min(3, len(fs))] {
		if f.Contribution > 0 {
			out = append(out, fmt.Sprintf("%s %.2f", f.Name, f.Value))
		}
	}
	if len(m.Explanation.Terms) > 0 {
		out = append(out, "terms: "+strings.Join(m.Explanation.Terms[:min(6, len(m.Explanation.Terms))], " "))
	}
	return out
}

func guarantee(p *Problem) string {
	switch {
	case p.InstitutionCap > 0:
		return "lazy greedy under a cardinality bound with specialty and institution caps (two matroids): at least 1/3 of the best selection"
	default:
		return "lazy greedy under a cardinality bound and specialty caps (one laminar matroid): at least 1/2 of the best selection"
	}
}

// openDemands lists the open demands v may read, by enterprise.
func (pl *Planner) openDemands(ctx context.Context, v medmatch.Viewer) (map[string][]*medmatch.Demand, error) {
	out := map[string][]*medmatch.Demand{}
	opt := medmatch.ListOptions{Limit: medmatch.MaxLimit}
	for {
		page, err := pl.Store.List(ctx, v, medmatch.KindDemand, opt)
		if err != nil {
			return nil, err
		}
		for _, r := range page.Records {
			if d := r.(*medmatch.Demand); d.Status == medmatch.DemandOpen {
				out[d.EnterpriseID] = append(out[d.EnterpriseID], d)
			}
		}
		if page.NextCursor == "" {
			return out, nil
		}
		opt.Cursor = page.NextCursor
	}
}

// clinicalValue scores each specialty by the published clinical needs it
// has: min(1, needs / 3).
func (pl *Planner) clinicalValue(ctx context.Context, v medmatch.Viewer) (map[string]float64, error) {
	out := map[string]float64{}
	opt := medmatch.ListOptions{Limit: medmatch.MaxLimit}
	count := map[string]int{}
	for {
		page, err := pl.Store.List(ctx, v, medmatch.KindNeed, opt)
		if err != nil {
			return nil, err
		}
		for _, r := range page.Records {
			if n := r.(*medmatch.ClinicalNeed); n.Status == medmatch.StatusPublished {
				count[n.Specialty]++
			}
		}
		if page.NextCursor == "" {
			break
		}
		opt.Cursor = page.NextCursor
	}
	for s, n := range count {
		out[s] = math.Min(1, float64(n)/3)
	}
	return out, nil
}

// priceFit is the mean budget fit of a over the invited enterprises'
// demands that state a budget (0.5 when none does).
func priceFit(a *medmatch.Achievement, demands [][]*medmatch.Demand) float64 {
	var sum float64
	n := 0
	for _, ds := range demands {
		for _, d := range ds {
			if d.Budget != nil {
				sum += matcher.BudgetFit(d.Budget, a.Price)
				n++
			}
		}
	}
	if n == 0 {
		return 0.5
	}
	return sum / float64(n)
}
