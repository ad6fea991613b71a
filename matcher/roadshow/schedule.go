package roadshow

import (
	"fmt"
	"sort"
	"strings"
)

// Meeting is a one-on-one meeting to place: enterprise E with project P,
// worth Value (the match score; requests accepted by the organizers are
// worth more than the planner's own recommendations).
type Meeting struct {
	E, P  int
	Value float64
}

// Placed is a meeting in a slot at a table.
type Placed struct {
	E, P, Slot, Table int
	Value             float64
	Locked            bool
}

// Unplaced is a meeting the schedule could not hold, and why.
type Unplaced struct {
	E, P   int
	Reason string
}

// ScheduleInput is a scheduling problem. Slots are numbered 0..len(Tables)-1.
type ScheduleInput struct {
	Tables    []int    // tables in each slot (0: the slot is gone)
	EntAvail  [][]bool // [enterprise][slot]
	ProjAvail [][]bool // [project][slot]; nil: every project every slot
	Quota     []int    // most meetings per enterprise
	Meetings  []Meeting
	Locked    []Placed // kept where they are; must satisfy every constraint
	// SearchBudget bounds the exact search in nodes (default 2,000,000);
	// beyond it the schedule keeps the best found and says it is not
	// proven optimal.
	SearchBudget int
}

// Schedule is a plan: every hard constraint holds — nobody in two
// meetings at once, both sides available, quotas, at most one meeting per
// project team per slot, at most Tables[s] meetings in slot s, a pair
// meeting at most once.
type Schedule struct {
	Placed   []Placed
	Unplaced []Unplaced
	// Min is the fewest meetings any enterprise has, counting each
	// enterprise up to what it asked for (its quota, or its meetings to
	// place if fewer) — the first objective. MinBound is an upper bound on
	// it; Optimal says Min is proven best (it meets MinBound, or the exact
	// search finished).
	Min, MinBound int
	Optimal       bool
	// Value is the total value of the placed meetings — the second
	// objective — and UpperBound a bound on it (each enterprise's best
	// meetings up to its quota, at most the tables of all slots); Gap is
	// 1 − Value/UpperBound.
	Value, UpperBound, Gap float64
}

// plan is a schedule under construction.
type plan struct {
	in       *ScheduleInput
	slots    int
	entBusy  [][]bool // [e][s]
	projBusy [][]bool // [p][s]
	used     []int    // meetings per slot
	count    []int    // meetings per enterprise
	slotOf   []int    // per input meeting: slot, or -1
	value    float64
	wanted   []int
}

func (pl *plan) free(m Meeting, s int) bool {
	in := pl.in
	return pl.used[s] < in.Tables[s] && in.EntAvail[m.E][s] && (in.ProjAvail == nil || in.ProjAvail[m.P][s]) &&
		!pl.entBusy[m.E][s] && !pl.projBusy[m.P][s]
}

func (pl *plan) place(i, s int) {
	m := pl.in.Meetings[i]
	pl.entBusy[m.E][s], pl.projBusy[m.P][s] = true, true
	pl.used[s]++
	pl.count[m.E]++
	pl.slotOf[i] = s
	pl.value += m.Value
}

func (pl *plan) unplace(i int) {
	m, s := pl.in.Meetings[i], pl.slotOf[i]
	pl.entBusy[m.E][s], pl.projBusy[m.P][s] = false, false
	pl.used[s]--
	pl.count[m.E]--
	pl.slotOf[i] = -1
	pl.value -= m.Value
}

// level is the first objective: the fewest meetings of any enterprise that
// wants some, each counted up to what it wants.
func (pl *plan) level() int {
	lv := -1
	for e, w := range pl.wanted {
		if w == 0 {
			continue
		}
		if c := min(pl.count[e], w); lv < 0 || c < lv {
			lv = c
		}
	}
	return max(lv, 0)
}

// PlanMeetings schedules the meetings. First objective: maximise the fewest
// meetings any enterprise gets (up to what it asked for); second: the
// total value. It is built in three steps:
//
//  1. Water-filling, level by level: at level k, slot after slot, the
//     enterprises with fewer than k meetings (and wanting more) are
//     matched to projects free in that slot by an exact maximum-weight
//     assignment (MaxWeightMatching) limited to the free tables; an
//     enterprise with fewer slots left to meet in weighs more, so scarce
//     enterprises are served first. Nobody gets a (k+1)-th meeting before
//     every enterprise that can be given a k-th has one, and the order of
//     the meetings in the input does not matter.
//  2. An exact branch-and-bound search over the (min, value) objective,
//     started from that plan and bounded by SearchBudget nodes: on small
//     events it proves the optimum; on large ones it keeps improving the
//     water-filled plan until the budget runs out.
//  3. Tables are numbered within each slot (locked meetings keep theirs).
//
// PlanMeetings returns an error when a locked meeting breaks a hard constraint.
func PlanMeetings(in *ScheduleInput) (*Schedule, error) {
	slots := len(in.Tables)
	ne := len(in.EntAvail)
	np := 0
	for _, m := range in.Meetings {
		np = max(np, m.P+1)
	}
	for _, l := range in.Locked {
		np = max(np, l.P+1)
	}
	if in.ProjAvail != nil {
		np = max(np, len(in.ProjAvail))
	}
	if len(in.Quota) != ne {
		return nil, fmt.Errorf("roadshow: %d quotas for %d enterprises", len(in.Quota), ne)
	}
	pl := &plan{in: in, slots: slots, used: make([]int, slots), count: make([]int, ne), slotOf: make([]int, len(in.Meetings)), wanted: make([]int, ne)}
	pl.entBusy = grid(ne, slots)
	pl.projBusy = grid(np, slots)
	for i := range pl.slotOf {
		pl.slotOf[i] = -1
	}
	// Locked meetings first; each must be valid where it is.
	seenPair := map[[2]int]bool{}
	lockedTables := make([]map[int]bool, slots)
	for i := range lockedTables {
		lockedTables[i] = map[int]bool{}
	}
	var lockedValue float64
	for _, l := range in.Locked {
		switch {
		case l.E < 0 || l.E >= ne || l.Slot < 0 || l.Slot >= slots:
			return nil, fmt.Errorf("roadshow: locked meeting %d–%d names no such enterprise or slot", l.E, l.P)
		case !in.EntAvail[l.E][l.Slot] || (in.ProjAvail != nil && !in.ProjAvail[l.P][l.Slot]):
			return nil, fmt.Errorf("roadshow: locked meeting %d–%d is in slot %d where one side is unavailable", l.E, l.P, l.Slot)
		case pl.entBusy[l.E][l.Slot] || pl.projBusy[l.P][l.Slot]:
			return nil, fmt.Errorf("roadshow: locked meetings double-book slot %d", l.Slot)
		case pl.used[l.Slot] >= in.Tables[l.Slot] || l.Table < 0 || l.Table >= in.Tables[l.Slot] || lockedTables[l.Slot][l.Table]:
			return nil, fmt.Errorf("roadshow: locked meeting %d–%d has no table %d in slot %d", l.E, l.P, l.Table, l.Slot)
		case seenPair[[2]int{l.E, l.P}]:
			return nil, fmt.Errorf("roadshow: enterprise %d meets project %d twice among the locked meetings", l.E, l.P)
		}
		seenPair[[2]int{l.E, l.P}] = true
		lockedTables[l.Slot][l.Table] = true
		pl.entBusy[l.E][l.Slot], pl.projBusy[l.P][l.Slot] = true, true
		pl.used[l.Slot]++
		pl.count[l.E]++
		lockedValue += l.Value
	}
	// What each enterprise wants: its quota, or what there is to place.
	open := make([]int, ne)
	for e := range ne {
		open[e] = pl.count[e]
	}
	var todo []int // meetings to place, in a canonical order
	for i, m := range in.Meetings {
		if m.E < 0 || m.E >= ne || m.P < 0 {
			return nil, fmt.Errorf("roadshow: meeting %d names no such enterprise or project", i)
		}
		if seenPair[[2]int{m.E, m.P}] {
			continue // already locked, or listed twice
		}
		seenPair[[2]int{m.E, m.P}] = true
		todo = append(todo, i)
		open[m.E]++
	}
	for e := range ne {
		pl.wanted[e] = min(in.Quota[e], open[e])
	}
	sort.SliceStable(todo, func(a, b int) bool {
		ma, mb := in.Meetings[todo[a]], in.Meetings[todo[b]]
		if ma.E != mb.E {
			return ma.E < mb.E
		}
		if ma.Value != mb.Value {
			return ma.Value > mb.Value
		}
		return ma.P < mb.P
	})

	pl.waterFill(todo)
	best := append([]int(nil), pl.slotOf...)
	minBound := pl.minBound(todo)
	s := &Schedule{MinBound: minBound}
	budget := in.SearchBudget
	if budget == 0 {
		budget = 2_000_000
	}
	bb := &search{pl: pl, todo: todo, budget: budget, bestLevel: pl.level(), bestValue: pl.value, best: best}
	if bb.bestLevel < minBound || pl.value < pl.valueBound(todo)-1e-9 {
		// Search from the empty plan, the water-filled one as the bound to beat.
		for i := range pl.slotOf {
			if pl.slotOf[i] >= 0 {
				pl.unplace(i)
			}
		}
		bb.prepare()
		bb.run(0, -1)
		s.Optimal = !bb.exhausted
	}
	if bb.bestLevel >= minBound {
		s.Optimal = true
	}
	// Rebuild the best plan.
	for i := range pl.slotOf {
		if pl.slotOf[i] >= 0 {
			pl.unplace(i)
		}
	}
	for i, sl := range bb.best {
		if sl >= 0 {
			pl.place(i, sl)
		}
	}
	// Tables.
	nextTable := make([]int, slots)
	for _, l := range in.Locked {
		l.Locked = true
		s.Placed = append(s.Placed, l)
	}
	for _, i := range todo {
		sl := pl.slotOf[i]
		if sl < 0 {
			continue
		}
		for lockedTables[sl][nextTable[sl]] {
			nextTable[sl]++
		}
		m := in.Meetings[i]
		s.Placed = append(s.Placed, Placed{E: m.E, P: m.P, Slot: sl, Table: nextTable[sl], Value: m.Value})
		nextTable[sl]++
	}
	sort.Slice(s.Placed, func(a, b int) bool {
		x, y := s.Placed[a], s.Placed[b]
		if x.Slot != y.Slot {
			return x.Slot < y.Slot
		}
		return x.Table < y.Table
	})
	for _, i := range todo {
		if pl.slotOf[i] < 0 {
			s.Unplaced = append(s.Unplaced, Unplaced{E: in.Meetings[i].E, P: in.Meetings[i].P, Reason: pl.why(in.Meetings[i])})
		}
	}
	s.Min = pl.level()
	s.Value = pl.value + lockedValue
	s.UpperBound = pl.valueBound(todo) + lockedValue
	if s.UpperBound > 0 {
		s.Gap = max(0, 1-s.Value/s.UpperBound)
	}
	return s, nil
}

func grid(n, m int) [][]bool {
	g := make([][]bool, n)
	for i := range g {
		g[i] = make([]bool, m)
	}
	return g
}

// waterFill places meetings level by level (see PlanMeetings).
func (pl *plan) waterFill(todo []int) {
	in := pl.in
	maxWanted := 0
	for _, w := range pl.wanted {
		maxWanted = max(maxWanted, w)
	}
	byEnt := map[int][]int{}
	for _, i := range todo {
		byEnt[in.Meetings[i].E] = append(byEnt[in.Meetings[i].E], i)
	}
	for k := 1; k <= maxWanted; k++ {
		for s := range pl.slots {
			if pl.used[s] >= in.Tables[s] {
				continue
			}
			// Rows: enterprises below level k, free in s; columns: projects.
			var ents []int
			for e := range pl.wanted {
				if pl.count[e] < min(k, pl.wanted[e]) && in.EntAvail[e][s] && !pl.entBusy[e][s] {
					ents = append(ents, e)
				}
			}
			if len(ents) == 0 {
				continue
			}
			cols := map[int]int{}
			var projs []int
			for _, e := range ents {
				for _, i := range byEnt[e] {
					if p := in.Meetings[i].P; pl.slotOf[i] < 0 && pl.free(in.Meetings[i], s) {
						if _, ok := cols[p]; !ok {
							cols[p] = len(projs)
							projs = append(projs, p)
						}
					}
				}
			}
			if len(projs) == 0 {
				continue
			}
			w := make([][]float64, len(ents))
			idx := make([][]int, len(ents))
			for r, e := range ents {
				w[r] = make([]float64, len(projs))
				idx[r] = make([]int, len(projs))
				// Scarcity: fewer later slots to meet in → larger weight.
				later := 0
				for t := s + 1; t < pl.slots; t++ {
					if in.EntAvail[e][t] && !pl.entBusy[e][t] && in.Tables[t] > 0 {
						later++
					}
				}
				prio := 1000.0 * float64(1+pl.slots-later)
				for _, i := range byEnt[e] {
					if pl.slotOf[i] < 0 && pl.free(in.Meetings[i], s) {
						c := cols[in.Meetings[i].P]
						w[r][c] = prio + in.Meetings[i].Value
						idx[r][c] = i
					}
				}
			}
			for _, pr := range MaxWeightMatching(w, in.Tables[s]-pl.used[s]) {
				pl.place(idx[pr.Row][pr.Col], s)
			}
		}
	}
}

// minBound bounds the first objective: an enterprise cannot have more
// meetings than slots it can meet in, and all enterprises together no more
// than the tables.
func (pl *plan) minBound(todo []int) int {
	in := pl.in
	bound := -1
	n, capacity := 0, 0
	for s := range pl.slots {
		capacity += in.Tables[s]
	}
	for e, w := range pl.wanted {
		if w == 0 {
			continue
		}
		n++
		slotsOK := 0
		for s := range pl.slots {
			if !in.EntAvail[e][s] || in.Tables[s] == 0 {
				continue
			}
			for _, i := range todo {
				m := in.Meetings[i]
				if m.E == e && (in.ProjAvail == nil || in.ProjAvail[m.P][s]) {
					slotsOK++
					break
				}
			}
		}
		b := min(w, slotsOK+pl.lockedCount(e))
		if bound < 0 || b < bound {
			bound = b
		}
	}
	if n == 0 {
		return 0
	}
	return min(bound, capacity/n)
}

func (pl *plan) lockedCount(e int) int {
	n := 0
	for _, l := range pl.in.Locked {
		if l.E == e {
			n++
		}
	}
	return n
}

// valueBound: each enterprise's most valuable meetings up to what it
// wants, and no more meetings than the tables of all slots.
func (pl *plan) valueBound(todo []int) float64 {
	in := pl.in
	var vals []float64
	per := map[int][]float64{}
	for _, i := range todo {
		m := in.Meetings[i]
		per[m.E] = append(per[m.E], m.Value)
	}
	for e, vs := range per {
		sort.Sort(sort.Reverse(sort.Float64Slice(vs)))
		vals = append(vals, vs[:min(len(vs), max(0, pl.wanted[e]-pl.lockedCount(e)))]...)
	}
	sort.Sort(sort.Reverse(sort.Float64Slice(vals)))
	capacity := 0
	for s := range pl.slots {
		capacity += in.Tables[s]
	}
	capacity -= len(in.Locked)
	var sum float64
	for _, v := range vals[:min(len(vals), max(0, capacity))] {
		sum += v
	}
	return sum
}

// why explains an unplaced meeting.
func (pl *plan) why(m Meeting) string {
	in := pl.in
	if pl.count[m.E] >= in.Quota[m.E] {
		return fmt.Sprintf("the enterprise's quota of %d meetings is reached", in.Quota[m.E])
	}
	var common []int
	for s := range pl.slots {
		if in.EntAvail[m.E][s] && (in.ProjAvail == nil || in.ProjAvail[m.P][s]) && in.Tables[s] > 0 {
			common = append(common, s)
		}
	}
	if len(common) == 0 {
		return "no slot where both the enterprise and the project team are available"
	}
	var parts []string
	for _, s := range common {
		switch {
		case pl.entBusy[m.E][s]:
			parts = append(parts, fmt.Sprintf("slot %d: the enterprise has another meeting", s+1))
		case pl.projBusy[m.P][s]:
			parts = append(parts, fmt.Sprintf("slot %d: the project team has another meeting", s+1))
		default:
			parts = append(parts, fmt.Sprintf("slot %d: all %d tables taken", s+1, in.Tables[s]))
		}
	}
	return "every common slot is taken (" + strings.Join(parts, "; ") + ")"
}

// search is the branch and bound of PlanMeetings's second step: each meeting in
// turn (grouped by enterprise) is left out or put in a free slot; a branch
// is cut when even placing every remaining meeting could not beat the best
// plan's (min, value). The bound costs O(1) per node: the value of the
// meetings left is a suffix sum, and the level is the least of the
// enterprises already decided, the one being decided and those after it.
type search struct {
	pl        *plan
	todo      []int
	budget    int
	nodes     int
	exhausted bool
	bestLevel int
	bestValue float64
	best      []int

	suffixValue []float64 // value of todo[k:]
	leftOfEnt   []int     // meetings of todo[k]'s enterprise in todo[k:]
	laterMin    []int     // least min(count + all its meetings, wanted) over enterprises after todo[k]'s; -1 if none
}

func (b *search) prepare() {
	pl, n := b.pl, len(b.todo)
	b.suffixValue = make([]float64, n+1)
	b.leftOfEnt = make([]int, n)
	b.laterMin = make([]int, n+1)
	total := map[int]int{}
	for _, i := range b.todo {
		total[pl.in.Meetings[i].E]++
	}
	b.laterMin[n] = -1
	// Enterprises with nothing to place count with what they have.
	idle := -1
	for e, w := range pl.wanted {
		if w > 0 && total[e] == 0 {
			if c := min(pl.count[e], w); idle < 0 || c < idle {
				idle = c
			}
		}
	}
	lower := func(a, c int) int {
		if a < 0 || c < a {
			return c
		}
		return a
	}
	running := idle // over enterprises strictly after position k's
	for k := n - 1; k >= 0; k-- {
		m := pl.in.Meetings[b.todo[k]]
		b.suffixValue[k] = b.suffixValue[k+1] + m.Value
		if k+1 < n && pl.in.Meetings[b.todo[k+1]].E == m.E {
			b.leftOfEnt[k] = b.leftOfEnt[k+1] + 1
			b.laterMin[k] = b.laterMin[k+1]
		} else {
			b.leftOfEnt[k] = 1
			b.laterMin[k] = running
			running = lower(running, min(pl.count[m.E]+total[m.E], pl.wanted[m.E]))
		}
	}
}

func (b *search) better(level int, value float64) bool {
	return level > b.bestLevel || (level == b.bestLevel && value > b.bestValue+1e-9)
}

// run decides todo[k:]; done is the least level of the enterprises
// already decided (−1: none).
func (b *search) run(k, done int) {
	if b.nodes++; b.nodes > b.budget {
		b.exhausted = true
		return
	}
	pl := b.pl
	if k == len(b.todo) {
		if lv := pl.level(); b.better(lv, pl.value) {
			b.bestLevel, b.bestValue = lv, pl.value
			copy(b.best, pl.slotOf)
		}
		return
	}
	i := b.todo[k]
	m := pl.in.Meetings[i]
	opt := min(pl.count[m.E]+b.leftOfEnt[k], pl.wanted[m.E])
	for _, x := range []int{done, b.laterMin[k]} {
		if x >= 0 && x < opt {
			opt = x
		}
	}
	if !b.better(opt, pl.value+b.suffixValue[k]) {
		return
	}
	// The level of m.E is final after its last meeting.
	next := func() {
		d := done
		if b.leftOfEnt[k] == 1 {
			if c := min(pl.count[m.E], pl.wanted[m.E]); d < 0 || c < d {
				d = c
			}
		}
		b.run(k+1, d)
	}
	if pl.count[m.E] < pl.in.Quota[m.E] {
		for s := range pl.slots {
			if pl.free(m, s) {
				pl.place(i, s)
				next()
				pl.unplace(i)
				if b.exhausted {
					return
				}
			}
		}
	}
	next()
}
