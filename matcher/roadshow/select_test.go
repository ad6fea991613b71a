package roadshow

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

func randomProblem(rng *rand.Rand) *Problem {
	np := 3 + rng.IntN(8)
	ne := 1 + rng.IntN(8)
	p := &Problem{N: 1 + rng.IntN(4), RubricWeight: rng.Float64()}
	for j := range np {
		p.Projects = append(p.Projects, Project{ID: fmt.Sprint(j), Specialty: fmt.Sprint("s", rng.IntN(3)),
			Institution: fmt.Sprint("i", rng.IntN(3)), Rubric: float64(rng.IntN(5)) / 4})
	}
	p.Match = make([][]float64, ne)
	for e := range p.Match {
		p.Match[e] = make([]float64, np)
		for j := range np {
			if rng.Float64() < 0.5 {
				p.Match[e][j] = float64(rng.IntN(9)) / 8 // coarse: ties happen
			}
		}
	}
	switch rng.IntN(3) {
	case 1:
		p.SpecialtyCap = 1 + rng.IntN(2)
	case 2:
		p.SpecialtyCap, p.InstitutionCap = 1+rng.IntN(2), 1+rng.IntN(2)
	}
	if rng.Float64() < 0.3 {
		p.Pins = []int{rng.IntN(np)}
	}
	if rng.Float64() < 0.3 {
		p.Excludes = []int{rng.IntN(np)}
	}
	return p
}

// optimum is the best objective over every feasible selection containing
// the pins (brute force).
func optimum(p *Problem) float64 {
	np := len(p.Projects)
	best := -1.0
	for mask := range 1 << np {
		var sel []int
		for j := range np {
			if mask&(1<<j) != 0 {
				sel = append(sel, j)
			}
		}
		ok := len(sel) <= max(p.N, len(p.Pins))
		for _, j := range p.Pins {
			ok = ok && (slices.Contains(sel, j) || slices.Contains(p.Excludes, j))
		}
		for _, j := range p.Excludes {
			ok = ok && !slices.Contains(sel, j)
		}
		spec, inst := map[string]int{}, map[string]int{}
		for _, j := range sel {
			if !slices.Contains(p.Pins, j) {
				spec[p.Projects[j].Specialty]++
				inst[p.Projects[j].Institution]++
			}
		}
		// Pins count toward the caps but may exceed them themselves.
		for _, j := range p.Pins {
			if slices.Contains(sel, j) {
				spec[p.Projects[j].Specialty]++
				inst[p.Projects[j].Institution]++
			}
		}
		for _, j := range sel {
			if slices.Contains(p.Pins, j) {
				continue
			}
			pr := p.Projects[j]
			if p.SpecialtyCap > 0 && spec[pr.Specialty] > max(p.SpecialtyCap, pinned(p, sel, func(q Project) bool { return q.Specialty == pr.Specialty })) {
				ok = false
			}
			if p.InstitutionCap > 0 && inst[pr.Institution] > max(p.InstitutionCap, pinned(p, sel, func(q Project) bool { return q.Institution == pr.Institution })) {
				ok = false
			}
		}
		if ok {
			best = max(best, p.Objective(sel))
		}
	}
	return best
}

func pinned(p *Problem, sel []int, same func(Project) bool) int {
	n := 0
	for _, j := range p.Pins {
		if slices.Contains(sel, j) && same(p.Projects[j]) {
			n++
		}
	}
	return n
}

func TestLazyGreedyIsGreedyAndWithinItsGuarantee(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for trial := range 3000 {
		p := randomProblem(rng)
		lazy, plain := Select(p), selectPlain(p)
		if !slices.Equal(lazy.Picked, plain.Picked) {
			t.Fatalf("trial %d: lazy greedy picked %v, plain greedy %v", trial, lazy.Picked, plain.Picked)
		}
		if len(lazy.Picked) > max(p.N, len(p.Pins)) {
			t.Fatalf("trial %d: picked %d > N %d", trial, len(lazy.Picked), p.N)
		}
		for _, j := range p.Excludes {
			if slices.Contains(lazy.Picked, j) {
				t.Fatalf("trial %d: picked excluded %d", trial, j)
			}
		}
		ratio := 0.5
		if p.InstitutionCap > 0 {
			ratio = 1.0 / 3
		}
		if opt := optimum(p); lazy.Objective < ratio*opt-1e-9 {
			t.Fatalf("trial %d: greedy %.3f below %.2f of the optimum %.3f", trial, lazy.Objective, ratio, opt)
		}
	}
}

func TestSelectPrefersCoverage(t *testing.T) {
	// Enterprises 0–2 like project 0 (0.9) and project 1 (0.8); enterprise 3
	// only likes project 2 (0.5). With N = 2 coverage picks 0 and 2, not the
	// two near-duplicates.
	p := &Problem{N: 2, Projects: make([]Project, 3), Match: [][]float64{
		{0.9, 0.8, 0}, {0.9, 0.8, 0}, {0.9, 0.8, 0}, {0, 0, 0.5},
	}}
	for j := range p.Projects {
		p.Projects[j] = Project{ID: fmt.Sprint(j), Specialty: fmt.Sprint(j), Institution: fmt.Sprint(j)}
	}
	sel := Select(p)
	if !slices.Equal(sel.Picked, []int{0, 2}) {
		t.Fatalf("picked %v; want [0 2]", sel.Picked)
	}
	served := p.Served(sel.Picked)
	if !slices.Equal(served[0], []int{0, 1, 2}) || !slices.Equal(served[2], []int{3}) {
		t.Fatalf("served %v", served)
	}
	// A specialty cap of 1 with projects 0 and 2 in one specialty.
	p.Projects[2].Specialty = p.Projects[0].Specialty
	p.SpecialtyCap = 1
	if sel := Select(p); !slices.Equal(sel.Picked, []int{0}) {
		t.Fatalf("with a cap picked %v; want [0] (1 is its own specialty but adds nothing)", sel.Picked)
	}
}
