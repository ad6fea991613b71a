package roadshow

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

func randomSchedule(rng *rand.Rand, ne, np, slots int) *ScheduleInput {
	in := &ScheduleInput{Tables: make([]int, slots), EntAvail: grid(ne, slots), Quota: make([]int, ne)}
	for s := range in.Tables {
		in.Tables[s] = rng.IntN(3) // 0–2 tables: tables bind
	}
	for e := range ne {
		for s := range slots {
			in.EntAvail[e][s] = rng.Float64() < 0.7
		}
		in.Quota[e] = 1 + rng.IntN(3)
	}
	if rng.Float64() < 0.5 {
		in.ProjAvail = grid(np, slots)
		for p := range np {
			for s := range slots {
				in.ProjAvail[p][s] = rng.Float64() < 0.8
			}
		}
	}
	for e := range ne {
		for p := range np {
			if rng.Float64() < 0.5 {
				in.Meetings = append(in.Meetings, Meeting{E: e, P: p, Value: float64(1 + rng.IntN(5))})
			}
		}
	}
	return in
}

// bruteForce tries every slot (or none) for every meeting.
func bruteForce(in *ScheduleInput) (int, float64) {
	pl := &plan{in: in, slots: len(in.Tables), used: make([]int, len(in.Tables)), count: make([]int, len(in.EntAvail)),
		slotOf: make([]int, len(in.Meetings)), wanted: make([]int, len(in.EntAvail))}
	np := 0
	for _, m := range in.Meetings {
		np = max(np, m.P+1)
	}
	if in.ProjAvail != nil {
		np = max(np, len(in.ProjAvail))
	}
	pl.entBusy, pl.projBusy = grid(len(in.EntAvail), pl.slots), grid(np, pl.slots)
	open := make([]int, len(in.EntAvail))
	for _, m := range in.Meetings {
		open[m.E]++
	}
	for e := range pl.wanted {
		pl.wanted[e] = min(in.Quota[e], open[e])
	}
	bestL, bestV := -1, 0.0
	var rec func(i int)
	rec = func(i int) {
		if i == len(in.Meetings) {
			if lv := pl.level(); lv > bestL || (lv == bestL && pl.value > bestV+1e-9) {
				bestL, bestV = lv, pl.value
			}
			return
		}
		rec(i + 1)
		m := in.Meetings[i]
		if pl.count[m.E] >= in.Quota[m.E] {
			return
		}
		for s := range pl.slots {
			if pl.free(m, s) {
				pl.place(i, s)
				rec(i + 1)
				pl.unplace(i)
			}
		}
	}
	rec(0)
	return bestL, bestV
}

// violations checks every hard constraint of a schedule.
func violations(t *testing.T, in *ScheduleInput, s *Schedule) {
	t.Helper()
	entAt, projAt, tableAt := map[[2]int]bool{}, map[[2]int]bool{}, map[[2]int]bool{}
	pair := map[[2]int]bool{}
	count := map[int]int{}
	for _, m := range s.Placed {
		switch {
		case !in.EntAvail[m.E][m.Slot]:
			t.Fatalf("enterprise %d unavailable in slot %d", m.E, m.Slot)
		case in.ProjAvail != nil && !in.ProjAvail[m.P][m.Slot]:
			t.Fatalf("project %d unavailable in slot %d", m.P, m.Slot)
		case entAt[[2]int{m.E, m.Slot}]:
			t.Fatalf("enterprise %d double-booked in slot %d", m.E, m.Slot)
		case projAt[[2]int{m.P, m.Slot}]:
			t.Fatalf("project %d double-booked in slot %d", m.P, m.Slot)
		case m.Table < 0 || m.Table >= in.Tables[m.Slot] || tableAt[[2]int{m.Slot, m.Table}]:
			t.Fatalf("table %d of slot %d invalid or shared", m.Table, m.Slot)
		case pair[[2]int{m.E, m.P}]:
			t.Fatalf("enterprise %d meets project %d twice", m.E, m.P)
		}
		entAt[[2]int{m.E, m.Slot}], projAt[[2]int{m.P, m.Slot}], tableAt[[2]int{m.Slot, m.Table}] = true, true, true
		pair[[2]int{m.E, m.P}] = true
		count[m.E]++
	}
	for e, c := range count {
		if c > in.Quota[e] {
			t.Fatalf("enterprise %d has %d meetings, quota %d", e, c, in.Quota[e])
		}
	}
}

func TestPlanAgainstBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for trial := range 400 {
		in := randomSchedule(rng, 1+rng.IntN(4), 1+rng.IntN(3), 1+rng.IntN(3))
		if len(in.Meetings) > 9 {
			in.Meetings = in.Meetings[:9]
		}
		s, err := PlanMeetings(in)
		if err != nil {
			t.Fatal(err)
		}
		violations(t, in, s)
		wantL, wantV := bruteForce(in)
		if s.Min != wantL || math.Abs(s.Value-wantV) > 1e-9 || !s.Optimal {
			t.Fatalf("trial %d: min %d value %v (optimal %v); brute force min %d value %v\n%+v", trial, s.Min, s.Value, s.Optimal, wantL, wantV, in)
		}
		if s.Min > s.MinBound || s.Value > s.UpperBound+1e-9 {
			t.Fatalf("trial %d: bounds %d/%v below the plan's %d/%v", trial, s.MinBound, s.UpperBound, s.Min, s.Value)
		}
		if len(s.Placed)+len(s.Unplaced) != len(in.Meetings) {
			t.Fatalf("trial %d: %d placed + %d unplaced ≠ %d meetings", trial, len(s.Placed), len(s.Unplaced), len(in.Meetings))
		}
		for _, u := range s.Unplaced {
			if u.Reason == "" {
				t.Fatalf("trial %d: unplaced meeting without a reason", trial)
			}
		}
		// The order of the requests never matters.
		shuffled := *in
		shuffled.Meetings = append([]Meeting(nil), in.Meetings...)
		rng.Shuffle(len(shuffled.Meetings), func(a, b int) {
			shuffled.Meetings[a], shuffled.Meetings[b] = shuffled.Meetings[b], shuffled.Meetings[a]
		})
		s2, _ := PlanMeetings(&shuffled)
		if s2.Min != s.Min || math.Abs(s2.Value-s.Value) > 1e-9 {
			t.Fatalf("trial %d: shuffled requests give min %d value %v; in order %d %v", trial, s2.Min, s2.Value, s.Min, s.Value)
		}
	}
}

// Large events: beyond the search budget the plan still holds every
// constraint, stays within its bounds and, with as many tables as the
// enterprises need, gives everyone a meeting.
func TestPlanLarge(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for trial := range 5 {
		in := randomSchedule(rng, 60, 12, 8)
		for s := range in.Tables {
			in.Tables[s] = 12
		}
		for e := range in.EntAvail {
			in.EntAvail[e][0] = true
		}
		in.ProjAvail = nil
		in.SearchBudget = 20_000
		s, err := PlanMeetings(in)
		if err != nil {
			t.Fatal(err)
		}
		violations(t, in, s)
		if s.Min > s.MinBound || s.Value > s.UpperBound+1e-9 {
			t.Fatalf("trial %d: plan beyond its bounds", trial)
		}
		if s.Min < 1 {
			t.Fatalf("trial %d: some enterprise got no meeting with 96 tables for 60 enterprises", trial)
		}
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

func TestPlanLockedAndErrors(t *testing.T) {
	in := &ScheduleInput{Tables: []int{1, 1}, EntAvail: [][]bool{{true, true}, {true, true}}, Quota: []int{1, 1},
		Meetings: []Meeting{{E: 0, P: 0, Value: 5}, {E: 1, P: 0, Value: 1}},
		Locked:   []Placed{{E: 1, P: 1, Slot: 0, Table: 0, Value: 2}}}
	s, err := PlanMeetings(in)
	if err != nil {
		t.Fatal(err)
	}
	violations(t, in, s)
	// Enterprise 1 has its locked meeting (quota 1); enterprise 0 meets in slot 1.
	if len(s.Placed) != 2 || s.Min != 1 || s.Value != 7 {
		t.Fatalf("plan %+v; want the locked meeting and 0–0 in slot 1", s)
	}
	if len(s.Unplaced) != 1 || !contains(s.Unplaced[0].Reason, "quota") {
		t.Fatalf("unplaced %+v; want 1–0 for its quota", s.Unplaced)
	}
	in.Locked = append(in.Locked, Placed{E: 0, P: 1, Slot: 0, Table: 0})
	if _, err := PlanMeetings(in); err == nil {
		t.Fatal("double-booked locked meetings accepted")
	}
}
