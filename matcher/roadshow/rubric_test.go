package roadshow

import (
	"math"
	"strings"
	"testing"

	"github.com/medmatch/medmatch"
)

func TestScreen(t *testing.T) {
	a := &medmatch.Achievement{Status: medmatch.StatusPublished, Maturity: medmatch.MaturityPrototype,
		IP: &medmatch.IP{Type: medmatch.IPInvention, Status: medmatch.IPFiled}, Team: []string{"甲", "乙"}}
	cases := []struct {
		name   string
		r      medmatch.Rubric
		a      func(*medmatch.Achievement)
		failed []string
	}{
		{"passes", medmatch.Rubric{MinMaturity: medmatch.MaturityPrototype, IPStatuses: []medmatch.IPStatus{medmatch.IPFiled, medmatch.IPGranted}}, nil, nil},
		{"too early", medmatch.Rubric{MinMaturity: medmatch.MaturityPreclinical}, nil, []string{"maturity prototype is below preclinical"}},
		{"no IP", medmatch.Rubric{IPStatuses: []medmatch.IPStatus{medmatch.IPGranted}}, func(x *medmatch.Achievement) { x.IP = nil }, []string{"IP status none"}},
		{"draft and early", medmatch.Rubric{MinMaturity: medmatch.MaturityClinicalTrial}, func(x *medmatch.Achievement) { x.Status = medmatch.StatusDraft },
			[]string{"status is draft", "maturity prototype is below clinical_trial"}},
	}
	for _, c := range cases {
		x := *a
		if c.a != nil {
			c.a(&x)
		}
		s := Screen(c.r, &x, Evidence{ClinicalValue: 0.8, PriceFit: 0.5})
		if s.Pass != (len(c.failed) == 0) || len(s.Failed) != len(c.failed) {
			t.Fatalf("%s: %+v; want failures %v", c.name, s, c.failed)
		}
		for i, f := range c.failed {
			if !strings.Contains(s.Failed[i], f) {
				t.Fatalf("%s: failure %q; want %q", c.name, s.Failed[i], f)
			}
		}
		var sum, wsum float64
		for _, b := range s.Breakdown {
			sum += b.Contribution
			wsum += b.Weight
		}
		if math.Abs(sum-s.Score) > 1e-12 || math.Abs(wsum-1) > 1e-12 || s.Score <= 0 || s.Score > 1 {
			t.Fatalf("%s: score %v, contributions %v, weights %v", c.name, s.Score, sum, wsum)
		}
	}
	// Weights steer the score: only IP counts.
	s := Screen(medmatch.Rubric{Weights: map[string]float64{medmatch.CriterionIP: 2}}, a, Evidence{})
	if math.Abs(s.Score-0.6) > 1e-12 || s.Breakdown[0].Name != medmatch.CriterionIP {
		t.Fatalf("IP-only score %v (%+v); want 0.6 for a filed invention", s.Score, s.Breakdown)
	}
}
