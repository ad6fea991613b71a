package matcher

import (
	"testing"
	"time"

	"github.com/medmatch/medmatch"
)

func TestFeatureFits(t *testing.T) {
	p := func(lo, hi float64, neg ...bool) *medmatch.Price {
		return &medmatch.Price{Min: lo, Max: hi, Negotiable: len(neg) > 0 && neg[0]}
	}
	budget := []struct {
		name          string
		budget, price *medmatch.Price
		want          float64
	}{
		{"price within budget", p(100, 300), p(200, 400), 1},
		{"price above budget", p(100, 200), p(400, 600), 0.5},
		{"budget without ceiling", p(300, 0), p(900, 0), 1},
		{"negotiable price", p(100, 200), p(0, 0, true), 0.75},
		{"no price", p(100, 200), nil, 0.5},
		{"no budget", nil, p(100, 200), 0.5},
	}
	for _, c := range budget {
		got := budgetFit(side{budget: c.budget}, side{price: c.price})
		if got != c.want {
			t.Errorf("budget %s: %v; want %v", c.name, got, c.want)
		}
		// The same pair seen from the achievement's side.
		if back := budgetFit(side{price: c.price}, side{budget: c.budget}); back != c.want {
			t.Errorf("budget %s reversed: %v; want %v", c.name, back, c.want)
		}
	}
	acc := []medmatch.Maturity{medmatch.MaturityPrototype, medmatch.MaturityPreclinical}
	mat := []struct {
		stage medmatch.Maturity
		want  float64
	}{
		{medmatch.MaturityPrototype, 1}, {medmatch.MaturityClinicalTrial, 0.75}, {medmatch.MaturityIdea, 0.5},
		{medmatch.MaturityMarketed, 0}, {"", 0.5},
	}
	for _, c := range mat {
		if got := maturityFit(side{accept: acc}, side{stage: c.stage}); got != c.want {
			t.Errorf("maturity %q: %v; want %v", c.stage, got, c.want)
		}
	}
	if got := jaccard([]string{"医疗器械", "数字医疗"}, []string{"医疗器械"}); got != 0.5 {
		t.Errorf("jaccard = %v", got)
	}
	if got := modeFit([]medmatch.TransferMode{"license"}, []medmatch.TransferMode{"assignment"}); got != 0 {
		t.Errorf("modeFit disjoint = %v", got)
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if got := recency(now.AddDate(-2, 0, 0), now); got < 0.49 || got > 0.51 {
		t.Errorf("recency two years = %v; want 0.5", got)
	}
}
