package roadshow

import (
	"container/heap"
	"sort"
)

// Project is a candidate project of a selection.
type Project struct {
	ID          string
	Specialty   string
	Institution string
	Rubric      float64 // the screening rubric's score, in [0, 1]
}

// Problem is a selection problem: choose at most N projects for an
// audience of enterprises.
type Problem struct {
	Projects []Project
	// Match[e][p] in [0, 1] is how well project p serves enterprise e (0
	// when p is not among e's candidates).
	Match [][]float64
	N     int
	// SpecialtyCap and InstitutionCap bound the projects chosen per
	// specialty and per institution (0: no cap).
	SpecialtyCap, InstitutionCap int
	// RubricWeight weighs the rubric against coverage (see Objective).
	RubricWeight float64
	Pins         []int // chosen first, whatever the caps
	Excludes     []int // never chosen
}

// Objective is what a selection S maximises:
//
//	f(S) = Σ_e max_{p ∈ S} Match[e][p]  +  RubricWeight · Σ_{p ∈ S} Rubric[p]
//
// The first sum is a facility-location (coverage) objective: every
// enterprise counts with its best project in S, so a second project for an
// audience already served adds little and one for an unserved enterprise
// adds much. Both sums are monotone and submodular, so f is.
func (p *Problem) Objective(sel []int) float64 {
	var f float64
	for _, row := range p.Match {
		best := 0.0
		for _, j := range sel {
			best = max(best, row[j])
		}
		f += best
	}
	for _, j := range sel {
		f += p.RubricWeight * p.Projects[j].Rubric
	}
	return f
}

// Selection is the outcome of Select.
type Selection struct {
	Picked    []int     // in the order chosen (pins first)
	Gains     []float64 // what each added to the objective when chosen
	Objective float64
}

// state tracks each enterprise's best match in the selection so far.
type state struct {
	p     *Problem
	best  []float64
	spec  map[string]int
	inst  map[string]int
	taken []bool
}

func newState(p *Problem) *state {
	return &state{p: p, best: make([]float64, len(p.Match)), spec: map[string]int{}, inst: map[string]int{}, taken: make([]bool, len(p.Projects))}
}

// gain is f(S ∪ {j}) − f(S), summed in a fixed order so that it is the
// same number whenever S is the same.
func (s *state) gain(j int) float64 {
	var g float64
	for e, row := range s.p.Match {
		if d := row[j] - s.best[e]; d > 0 {
			g += d
		}
	}
	return g + s.p.RubricWeight*s.p.Projects[j].Rubric
}

func (s *state) fits(j int) bool {
	pr := s.p.Projects[j]
	if s.p.SpecialtyCap > 0 && s.spec[pr.Specialty] >= s.p.SpecialtyCap {
		return false
	}
	if s.p.InstitutionCap > 0 && s.inst[pr.Institution] >= s.p.InstitutionCap {
		return false
	}
	return true
}

func (s *state) take(j int) {
	s.taken[j] = true
	for e, row := range s.p.Match {
		s.best[e] = max(s.best[e], row[j])
	}
	s.spec[s.p.Projects[j].Specialty]++
	s.inst[s.p.Projects[j].Institution]++
}

func (s *state) start(sel *Selection) []bool {
	excluded := make([]bool, len(s.p.Projects))
	for _, j := range s.p.Excludes {
		excluded[j] = true
	}
	for _, j := range s.p.Pins {
		if !s.taken[j] && !excluded[j] && len(sel.Picked) < max(s.p.N, len(s.p.Pins)) {
			sel.Gains = append(sel.Gains, s.gain(j))
			sel.Picked = append(sel.Picked, j)
			s.take(j)
		}
	}
	return excluded
}

// Select chooses up to N projects by lazy greedy (Minoux's accelerated
// greedy): pins first, then repeatedly the project of largest marginal
// gain that fits the caps, ties to the lower index, while the gain is
// positive (a project that adds nothing is not presented). Marginal gains only
// shrink as the selection grows (submodularity), so a stale gain is an
// upper bound and most projects are never re-evaluated; the result is
// exactly plain greedy's.
//
// Guarantee (Fisher, Nemhauser & Wolsey 1978): the cardinality bound and
// the per-specialty caps together form one laminar matroid, over which
// greedy reaches at least 1/2 of the best selection's objective — not the
// 1 − 1/e of a bare cardinality bound. Adding per-institution caps makes it
// an intersection of two matroids, where the guarantee is 1/3. Pins are
// taken as given: the guarantee is relative to the best selection that
// contains them.
func Select(p *Problem) Selection {
	s := newState(p)
	var sel Selection
	excluded := s.start(&sel)
	h := &gainHeap{}
	for j := range p.Projects {
		if !s.taken[j] && !excluded[j] {
			heap.Push(h, item{j, s.gain(j)})
		}
	}
	for len(sel.Picked) < p.N && h.Len() > 0 {
		top := heap.Pop(h).(item)
		if !s.fits(top.j) {
			continue // caps only tighten: it will never fit
		}
		g := s.gain(top.j)
		if h.Len() > 0 {
			next := (*h)[0]
			if g < next.bound || (g == next.bound && next.j < top.j) {
				heap.Push(h, item{top.j, g})
				continue
			}
		}
		if g <= 0 {
			break // nothing left adds anything
		}
		sel.Picked = append(sel.Picked, top.j)
		sel.Gains = append(sel.Gains, g)
		s.take(top.j)
	}
	sel.Objective = p.Objective(sel.Picked)
	return sel
}

// selectPlain is plain greedy: every remaining project re-evaluated each
// round. Select must choose exactly what it chooses.
func selectPlain(p *Problem) Selection {
	s := newState(p)
	var sel Selection
	excluded := s.start(&sel)
	for len(sel.Picked) < p.N {
		best, bestGain := -1, 0.0
		for j := range p.Projects {
			if s.taken[j] || excluded[j] || !s.fits(j) {
				continue
			}
			if g := s.gain(j); best < 0 || g > bestGain {
				best, bestGain = j, g
			}
		}
		if best < 0 || bestGain <= 0 {
			break
		}
		sel.Picked = append(sel.Picked, best)
		sel.Gains = append(sel.Gains, bestGain)
		s.take(best)
	}
	sel.Objective = p.Objective(sel.Picked)
	return sel
}

type item struct {
	j     int
	bound float64
}

// gainHeap pops the largest bound first, ties to the lower index.
type gainHeap []item

func (h gainHeap) Len() int { return len(h) }
func (h gainHeap) Less(a, b int) bool {
	if h[a].bound != h[b].bound {
		return h[a].bound > h[b].bound
	}
	return h[a].j < h[b].j
}
func (h gainHeap) Swap(a, b int) { h[a], h[b] = h[b], h[a] }
func (h *gainHeap) Push(x any)   { *h = append(*h, x.(item)) }
func (h *gainHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// Served lists, for a selected project, the enterprises for which it is
// the best project of the selection (ties to the earlier pick), best
// served first: whom the project is there for.
func (p *Problem) Served(sel []int) map[int][]int {
	out := map[int][]int{}
	for e, row := range p.Match {
		bestJ, best := -1, 0.0
		for _, j := range sel {
			if row[j] > best {
				bestJ, best = j, row[j]
			}
		}
		if bestJ >= 0 {
			out[bestJ] = append(out[bestJ], e)
		}
	}
	for j, es := range out {
		sort.SliceStable(es, func(a, b int) bool { return p.Match[es[a]][j] > p.Match[es[b]][j] })
	}
	return out
}
