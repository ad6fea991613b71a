package roadshow_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/medmatch/medmatch"
	"github.com/medmatch/medmatch/bolt"
	"github.com/medmatch/medmatch/dict"
	"github.com/medmatch/medmatch/fixtures"
	"github.com/medmatch/medmatch/indexer"
	"github.com/medmatch/medmatch/matcher"
	"github.com/medmatch/medmatch/matcher/roadshow"
)

var organizer = medmatch.Viewer{Role: medmatch.RoleOrganizer}

func demoPlanner(t *testing.T) (*roadshow.Planner, medmatch.Store) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	s, err := bolt.Open(dir, bolt.Options{Taxonomy: dict.MustTaxonomy()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	recs, err := fixtures.Records()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Import(ctx, medmatch.System, recs, medmatch.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	ix, err := indexer.Open(ctx, indexer.Dir(dir), s, indexer.Options{NoSuggestions: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	m, err := matcher.New(ctx, s, ix, matcher.Options{})
	if err != nil {
		t.Fatal(err)
	}
	model, err := m.FitModel(ctx, matcher.FitOptions{K: 32, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.SaveModel(ctx, medmatch.System, model, "test"); err != nil {
		t.Fatal(err)
	}
	return &roadshow.Planner{Store: s, Matcher: m}, s
}

func TestPlanEvent(t *testing.T) {
	ctx := context.Background()
	pl, s := demoPlanner(t)
	ev := &medmatch.Event{Title: "医疗器械转化项目推介会", Theme: "医疗器械 神经调控 植入 康复", Date: "2026-12-10", Projects: 6,
		SpecialtyCap: 2, Status: medmatch.EventPublished,
		Pool:   medmatch.SavedSearch{Filters: map[string][]string{"fields": {"医疗器械", "康复辅具"}}},
		Rubric: medmatch.Rubric{MinMaturity: medmatch.MaturityPrototype},
		Pins:   []string{"ach-0001"}, Excludes: []string{"ach-0002"}}
	for s := range 4 {
		ev.Slots = append(ev.Slots, medmatch.Slot{Start: fmt.Sprintf("14:%02d", s*15), Minutes: 12, Tables: 3})
	}
	for i := 1; i <= 12; i++ {
		ev.Invited = append(ev.Invited, medmatch.Invitation{EnterpriseID: fmt.Sprintf("ent-%03d", i), Quota: 2})
	}
	ev.Invited[0].Available = []int{0, 1}
	ev.Invited[0].Requests = []medmatch.MeetingRequest{{AchievementID: "ach-0001", Status: medmatch.RequestAccepted}}
	if err := s.PutEvent(ctx, organizer, ev); err != nil {
		t.Fatal(err)
	}
	if _, err := pl.Plan(ctx, medmatch.Viewer{Role: medmatch.RoleEnterprise, Enterprise: "ent-001"}, ev.ID); medmatch.ErrorCode(err) != medmatch.EFORBIDDEN {
		t.Fatalf("enterprise planned: %v", err)
	}
	p, err := pl.Plan(ctx, organizer, ev.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Selected) == 0 || len(p.Selected) > 6 || p.Selected[0].AchievementID != "ach-0001" || !p.Selected[0].Pinned {
		t.Fatalf("selected %+v; want up to 6 with the pinned ach-0001 first", p.Selected)
	}
	spec := map[string]int{}
	for _, sp := range p.Selected {
		if sp.AchievementID == "ach-0002" {
			t.Fatal("selected the excluded ach-0002")
		}
		r, err := s.Get(ctx, organizer, medmatch.KindAchievement, sp.AchievementID)
		if err != nil {
			t.Fatal(err)
		}
		a := r.(*medmatch.Achievement)
		if !sp.Pinned && a.Maturity.Rank() < medmatch.MaturityPrototype.Rank() {
			t.Fatalf("%s is at %s, below the rubric's prototype", a.ID, a.Maturity)
		}
		if !sp.Pinned {
			spec[a.Specialty]++
			if spec[a.Specialty] > 2 {
				t.Fatalf("more than 2 projects of %s", a.Specialty)
			}
		}
		sum := 0.0
		for _, b := range sp.Rubric.Breakdown {
			sum += b.Contribution
		}
		if d := sum - sp.Rubric.Score; d > 1e-9 || d < -1e-9 {
			t.Fatalf("%s: rubric breakdown adds to %v, score %v", a.ID, sum, sp.Rubric.Score)
		}
	}
	if len(p.Agenda) != 12 {
		t.Fatalf("agenda for %d enterprises; want 12", len(p.Agenda))
	}
	// The accepted request is scheduled, in a slot ent-001 can make.
	found := false
	perEnt := map[string]int{}
	for _, m := range p.Schedule.Meetings {
		perEnt[m.EnterpriseID]++
		if m.EnterpriseID == "ent-001" {
			if m.Slot > 1 {
				t.Fatalf("ent-001 meets in slot %d; it is available in 0 and 1", m.Slot)
			}
			if m.AchievementID == "ach-0001" {
				found = m.Requested
			}
		}
	}
	if !found {
		t.Fatalf("the accepted request ent-001 × ach-0001 is not scheduled: %+v", p.Schedule)
	}
	for e, n := range perEnt {
		if n > 2 {
			t.Fatalf("%s has %d meetings; quota 2", e, n)
		}
	}
	if p.Schedule.Value > p.Schedule.UpperBound+1e-9 || p.Guarantee == "" {
		t.Fatalf("schedule value %v above its bound %v", p.Schedule.Value, p.Schedule.UpperBound)
	}
}

func TestExport(t *testing.T) {
	ctx := context.Background()
	pl, s := demoPlanner(t)
	ev := &medmatch.Event{Title: "推介会", Theme: "医疗器械", Date: "2026-12-10", Projects: 4, Status: medmatch.EventPublished,
		Slots: []medmatch.Slot{{Start: "14:00", Minutes: 20, Tables: 2}, {Start: "14:30", Minutes: 20, Tables: 1}}}
	for i := 1; i <= 6; i++ {
		ev.Invited = append(ev.Invited, medmatch.Invitation{EnterpriseID: fmt.Sprintf("ent-%03d", i), Quota: 2})
	}
	if err := s.PutEvent(ctx, organizer, ev); err != nil {
		t.Fatal(err)
	}
	p, err := pl.Plan(ctx, organizer, ev.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Schedule.Meetings) == 0 {
		t.Fatal("no meetings planned")
	}
	var buf bytes.Buffer
	if err := roadshow.WriteXLSX(&buf, ev, p); err != nil {
		t.Fatal(err)
	}
	book, err := roadshow.ReadXLSX(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	want := roadshow.Tables(ev, p)
	for _, name := range roadshow.Sheets {
		got := book[name]
		if len(got) != len(want[name]) {
			t.Fatalf("sheet %s has %d rows; want %d", name, len(got), len(want[name]))
		}
		for r := range got {
			for c := range want[name][r] {
				g := ""
				if c < len(got[r]) {
					g = got[r][c]
				}
				if g != want[name][r][c] {
					t.Fatalf("sheet %s row %d col %d = %q; want %q", name, r+1, c+1, g, want[name][r][c])
				}
			}
		}
	}
	if len(book[roadshow.SheetProjects]) != len(p.Selected)+1 || book[roadshow.SheetProjects][1][1] != p.Selected[0].AchievementID {
		t.Fatalf("projects sheet %v", book[roadshow.SheetProjects])
	}
	if len(book[roadshow.SheetEnterprises]) != len(p.Schedule.Meetings)+1 {
		t.Fatalf("enterprise sheet has %d rows for %d meetings", len(book[roadshow.SheetEnterprises]), len(p.Schedule.Meetings))
	}
	// The grid: slot 2 has one table; its second column is "—".
	grid := book[roadshow.SheetGrid]
	if len(grid) != 3 || grid[2][3] != "—" {
		t.Fatalf("grid %v", grid)
	}
	// CSV of the same table.
	buf.Reset()
	if err := roadshow.WriteCSV(&buf, ev, p, roadshow.SheetEnterprises); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(buf.Bytes(), []byte("\ufeff")))).ReadAll()
	if err != nil || len(rows) != len(p.Schedule.Meetings)+1 {
		t.Fatalf("csv: %d rows, %v", len(rows), err)
	}
	if err := roadshow.WriteCSV(&buf, ev, p, "nope"); medmatch.ErrorCode(err) != medmatch.EINVALID {
		t.Fatalf("unknown sheet: %v", err)
	}
	// Printable: one section per enterprise, page breaks, names escaped.
	buf.Reset()
	if err := roadshow.WriteHTML(&buf, ev, p); err != nil {
		t.Fatal(err)
	}
	html := buf.String()
	if strings.Count(html, "<section>") != len(ev.Invited) || !strings.Contains(html, "break-after:page") || !strings.Contains(html, p.Agenda[0].Name) {
		t.Fatalf("printable agenda: %d sections for %d enterprises", strings.Count(html, "<section>"), len(ev.Invited))
	}
}

func TestReplanLocksExpiryAndChanges(t *testing.T) {
	ctx := context.Background()
	pl, s := demoPlanner(t)
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	pl.Now = func() time.Time { return now }
	ev := &medmatch.Event{Title: "推介会", Theme: "医疗器械", Date: "2026-12-10", Projects: 5, Status: medmatch.EventPublished, RequestTTL: "72h",
		Slots: []medmatch.Slot{{Start: "14:00", Minutes: 20, Tables: 3}, {Start: "14:30", Minutes: 20, Tables: 3}, {Start: "15:00", Minutes: 20, Tables: 3}}}
	for i := 1; i <= 8; i++ {
		ev.Invited = append(ev.Invited, medmatch.Invitation{EnterpriseID: fmt.Sprintf("ent-%03d", i), Quota: 2})
	}
	ev.Invited[1].Requests = []medmatch.MeetingRequest{
		{AchievementID: "ach-0003", Status: medmatch.RequestPending, At: now.Add(-100 * time.Hour)},
		{AchievementID: "ach-0004", Status: medmatch.RequestPending, At: now.Add(-10 * time.Hour)},
	}
	if err := s.PutEvent(ctx, organizer, ev); err != nil {
		t.Fatal(err)
	}
	first, err := pl.Plan(ctx, organizer, ev.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Expired) != 1 || first.Expired[0].AchievementID != "ach-0003" {
		t.Fatalf("expired %+v; want the 100-hour-old request only", first.Expired)
	}
	stored, _ := s.Event(ctx, organizer, ev.ID)
	if st := stored.Invitation("ent-002").Requests; st[0].Status != medmatch.RequestExpired || st[1].Status != medmatch.RequestPending {
		t.Fatalf("stored requests %+v", st)
	}
	data, _ := json.Marshal(first)
	if err := s.PutArtifact(ctx, organizer, &medmatch.Artifact{Name: roadshow.PlanArtifact(ev.ID), Data: data}); err != nil {
		t.Fatal(err)
	}
	if len(first.Schedule.Meetings) < 4 {
		t.Fatalf("only %d meetings planned", len(first.Schedule.Meetings))
	}
	// Lock a meeting of slot 2 where it is, remove slot 1's tables, re-plan.
	var keep roadshow.PlannedMeeting
	for _, m := range first.Schedule.Meetings {
		if m.Slot == 1 {
			keep = m
			break
		}
	}
	stored.Locked = []medmatch.LockedMeeting{{EnterpriseID: keep.EnterpriseID, AchievementID: keep.AchievementID, Slot: 1, Table: keep.Table}}
	stored.Slots[0].Tables = 0
	if err := s.PutEvent(ctx, organizer, stored); err != nil {
		t.Fatal(err)
	}
	second, err := pl.Plan(ctx, organizer, ev.ID)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, m := range second.Schedule.Meetings {
		if m.Slot == 0 {
			t.Fatalf("a meeting in slot 0, which has no tables: %+v", m)
		}
		if m.EnterpriseID == keep.EnterpriseID && m.AchievementID == keep.AchievementID && m.Slot == 1 && m.Table == keep.Table {
			found = true
		}
	}
	if !found {
		t.Fatalf("locked meeting %+v moved", keep)
	}
	// Every meeting of the removed slot is listed, moved or with a reason.
	listed := map[string]bool{}
	for _, c := range second.Changes {
		if c.ToSlot == nil && c.Reason == "" {
			t.Fatalf("dropped without a reason: %+v", c)
		}
		listed[c.EnterpriseID+"×"+c.AchievementID] = true
	}
	for _, m := range first.Schedule.Meetings {
		if m.Slot == 0 && !listed[m.EnterpriseID+"×"+m.AchievementID] {
			t.Fatalf("meeting %+v of the removed slot is not listed among the changes %+v", m, second.Changes)
		}
	}
	// A lock outside the presented projects is a clear error.
	stored, _ = s.Event(ctx, organizer, ev.ID)
	stored.Locked = append(stored.Locked, medmatch.LockedMeeting{EnterpriseID: "ent-003", AchievementID: keep.AchievementID, Slot: 1, Table: keep.Table})
	if err := s.PutEvent(ctx, organizer, stored); err != nil {
		t.Fatal(err)
	}
	if _, err := pl.Plan(ctx, organizer, ev.ID); medmatch.ErrorCode(err) != medmatch.EINVALID {
		t.Fatalf("two locked meetings at one table: %v; want invalid", err)
	}
}

func TestApplyOrder(t *testing.T) {
	ids := func(p *roadshow.Plan) string {
		var out []string
		for _, s := range p.Selected {
			out = append(out, s.AchievementID)
		}
		return strings.Join(out, ",")
	}
	for _, c := range []struct {
		order []string
		want  string
	}{
		{nil, "a,b,c,d"},
		{[]string{"c"}, "c,a,b,d"},
		{[]string{"d", "b"}, "d,b,a,c"},
		{[]string{"x", "c", "c", "a"}, "c,a,b,d"}, // unknown ids and repeats are ignored
	} {
		p := &roadshow.Plan{Selected: []roadshow.SelectedProject{{AchievementID: "a"}, {AchievementID: "b"}, {AchievementID: "c"}, {AchievementID: "d"}}}
		p.ApplyOrder(c.order)
		if got := ids(p); got != c.want {
			t.Errorf("ApplyOrder(%v) = %s; want %s", c.order, got, c.want)
		}
	}
}
