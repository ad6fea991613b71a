package roadshow

import (
	"fmt"
	"math"
	"slices"
	"sort"

	"github.com/medmatch/medmatch"
)

// CriterionScore is one soft criterion's part in a rubric score.
type CriterionScore struct {
	Name         string  `json:"name"`
	Value        float64 `json:"value"`  // in [0, 1]
	Weight       float64 `json:"weight"` // normalised: the weights sum to 1
	Contribution float64 `json:"contribution"`
}

// Screening is a candidate's rubric result: whether it passes the hard
// filters (and which it fails), and its score in [0, 1] — the sum of the
// contributions.
type Screening struct {
	Pass      bool             `json:"pass"`
	Failed    []string         `json:"failed,omitempty"`
	Score     float64          `json:"score"`
	Breakdown []CriterionScore `json:"breakdown"`
}

// Evidence is what the rubric cannot read off the record itself: how well
// the achievement answers published clinical needs and how its price fits
// the invited enterprises' budgets, both in [0, 1] (the matcher's).
type Evidence struct {
	ClinicalValue float64
	PriceFit      float64
}

// ipStrength ranks IP: a granted invention patent protects most.
func ipStrength(ip *medmatch.IP) float64 {
	if ip == nil {
		return 0
	}
	base := map[medmatch.IPType]float64{medmatch.IPInvention: 1, medmatch.IPSoftwareCopyright: 0.6,
		medmatch.IPUtilityModel: 0.5, medmatch.IPDesign: 0.3}[ip.Type]
	switch ip.Status {
	case medmatch.IPGranted:
		return base
	case medmatch.IPFiled:
		return 0.6 * base
	}
	return 0
}

// Screen applies rubric r to achievement a.
func Screen(r medmatch.Rubric, a *medmatch.Achievement, ev Evidence) Screening {
	var s Screening
	if !a.Status.Listed() || a.Status == medmatch.StatusTransferred {
		s.Failed = append(s.Failed, fmt.Sprintf("status is %s, not published", a.Status))
	}
	if r.MinMaturity != "" && a.Maturity.Rank() < r.MinMaturity.Rank() {
		s.Failed = append(s.Failed, fmt.Sprintf("maturity %s is below %s", a.Maturity, r.MinMaturity))
	}
	if len(r.IPStatuses) > 0 {
		st := medmatch.IPNone
		if a.IP != nil {
			st = a.IP.Status
		}
		if !slices.Contains(r.IPStatuses, st) {
			s.Failed = append(s.Failed, fmt.Sprintf("IP status %s is not one of %v", st, r.IPStatuses))
		}
	}
	s.Pass = len(s.Failed) == 0
	weights := r.Weights
	if len(weights) == 0 {
		weights = medmatch.DefaultRubricWeights
	}
	var total float64
	for _, w := range weights {
		total += w
	}
	values := map[string]float64{
		medmatch.CriterionClinicalValue: clamp(ev.ClinicalValue),
		medmatch.CriterionMaturity:      float64(max(0, a.Maturity.Rank()-1)) / float64(len(medmatch.Maturities)-1),
		medmatch.CriterionIP:            ipStrength(a.IP),
		medmatch.CriterionTeam:          math.Min(1, float64(len(a.Team))/3),
		medmatch.CriterionPriceFit:      clamp(ev.PriceFit),
	}
	for _, name := range medmatch.RubricCriteria {
		w := 0.0
		if total > 0 {
			w = weights[name] / total
		}
		c := CriterionScore{Name: name, Value: values[name], Weight: w, Contribution: w * values[name]}
		s.Breakdown = append(s.Breakdown, c)
		s.Score += c.Contribution
	}
	sort.SliceStable(s.Breakdown, func(i, j int) bool { return s.Breakdown[i].Contribution > s.Breakdown[j].Contribution })
	return s
}

func clamp(x float64) float64 { return math.Max(0, math.Min(1, x)) }
