package matcher

import (
	"math"
	"slices"
	"time"

	"github.com/medmatch/medmatch"
)

// Feature names, in the order of a feature vector. Every feature lies in
// [0, 1]; 0.5 means "unknown" (one side does not say), so a record that
// leaves a field empty is neither rewarded nor punished for it.
const (
	FText      = "text"          // BM25 of the key terms, over the pool's best
	FSemantic  = "semantic"      // cosine in the latent semantic space (0 if negative)
	FSpecialty = "specialty"     // same clinical specialty
	FFields    = "fields"        // overlap of technology fields (Jaccard)
	FMaturity  = "maturity"      // the offered stage is one the demand accepts
	FMode      = "transfer_mode" // a transfer mode both sides accept
	FBudget    = "budget"        // the asking price fits the budget (面议 is open)
	FRegion    = "region"        // same region
	FRecency   = "recency"       // the candidate was updated recently
)

// Features lists the feature names in vector order.
var Features = []string{FText, FSemantic, FSpecialty, FFields, FMaturity, FMode, FBudget, FRegion, FRecency}

const unknown = 0.5

// side is what the features need of one record.
type side struct {
	ref         medmatch.Ref
	specialties []string
	fields      []string
	stage       medmatch.Maturity   // offered (an achievement)
	accept      []medmatch.Maturity // acceptable (a demand)
	modes       []medmatch.TransferMode
	price       *medmatch.Price // asking price (an achievement)
	budget      *medmatch.Price // budget (a demand)
	region      string
	updated     time.Time
}

// sideOf describes r; ent is the enterprise of a demand (for its region).
func sideOf(r medmatch.Record, ent *medmatch.Enterprise) side {
	s := side{ref: medmatch.Ref{Kind: r.Kind(), ID: r.Base().ID}, updated: r.Base().UpdatedAt}
	switch r := r.(type) {
	case *medmatch.Achievement:
		s.specialties, s.fields, s.stage = nonEmpty(r.Specialty), r.Fields, r.Maturity
		s.modes, s.price, s.region = r.TransferModes, r.Price, r.Region
	case *medmatch.ClinicalNeed:
		s.specialties, s.fields, s.region = nonEmpty(r.Specialty), r.Fields, r.Region
	case *medmatch.Team:
		s.specialties, s.fields, s.region = r.Specialties, r.Fields, r.Region
	case *medmatch.Enterprise:
		s.fields, s.region = r.Fields, r.Region
	case *medmatch.Demand:
		s.specialties, s.fields, s.accept = nonEmpty(r.Specialty), r.Fields, r.Maturity
		s.modes, s.budget = r.TransferModes, r.Budget
		if ent != nil {
			s.region = ent.Region
		}
	}
	return s
}

func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

// features fills x (len(Features)) for source s and candidate c; text and
// semantic are given.
func features(x []float64, s, c side, text, semantic float64, now time.Time) {
	x[0] = text
	x[1] = math.Max(0, semantic)
	x[2] = overlapAny(s.specialties, c.specialties)
	x[3] = jaccard(s.fields, c.fields)
	x[4] = maturityFit(s, c)
	x[5] = modeFit(s.modes, c.modes)
	x[6] = budgetFit(s, c)
	x[7] = regionFit(s.region, c.region)
	x[8] = recency(c.updated, now)
}

func overlapAny(a, b []string) float64 {
	if len(a) == 0 || len(b) == 0 {
		return unknown
	}
	for _, x := range a {
		if slices.Contains(b, x) {
			return 1
		}
	}
	return 0
}

func jaccard(a, b []string) float64 {
	if len(a) == 0 || len(b) == 0 {
		return unknown
	}
	inter := 0
	for _, x := range a {
		if slices.Contains(b, x) {
			inter++
		}
	}
	union := len(a) + len(b) - inter
	return float64(inter) / float64(union)
}

// maturityFit: 1 when the offered stage is acceptable, falling by a
// quarter per stage away from the nearest acceptable one.
func maturityFit(s, c side) float64 {
	accept, stage := s.accept, c.stage
	if len(accept) == 0 || stage == "" {
		accept, stage = c.accept, s.stage
	}
	if len(accept) == 0 || stage.Rank() == 0 {
		return unknown
	}
	best := 99
	for _, a := range accept {
		if a.Rank() == 0 {
			continue
		}
		best = min(best, abs(a.Rank()-stage.Rank()))
	}
	if best == 99 {
		return unknown
	}
	return math.Max(0, 1-0.25*float64(best))
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

func modeFit(a, b []medmatch.TransferMode) float64 {
	if len(a) == 0 || len(b) == 0 {
		return unknown
	}
	for _, x := range a {
		if slices.Contains(b, x) {
			return 1
		}
	}
	return 0
}

// budgetFit compares a demand's budget with an achievement's asking
// price: 1 when the lowest price is within the highest budget, else the
// ratio of the two; 面议 on either side (without figures) counts as
// likely to fit (0.75); a side without any figure is unknown.
func budgetFit(s, c side) float64 {
	budget, price := s.budget, c.price
	if budget == nil && price == nil {
		budget, price = c.budget, s.price
	}
	if budget == nil || price == nil {
		return unknown
	}
	bHi := math.Max(budget.Min, budget.Max)
	pLo := price.Min
	if pLo == 0 {
		pLo = price.Max
	}
	if bHi == 0 || pLo == 0 {
		if budget.Negotiable || price.Negotiable {
			return 0.75
		}
		return unknown
	}
	if budget.Max == 0 || pLo <= bHi { // "at least Min" has no ceiling
		return 1
	}
	return bHi / pLo
}

func regionFit(a, b string) float64 {
	if a == "" || b == "" {
		return unknown
	}
	if a == b {
		return 1
	}
	return 0
}

// recency halves every two years.
func recency(t, now time.Time) float64 {
	if t.IsZero() {
		return unknown
	}
	days := now.Sub(t).Hours() / 24
	if days < 0 {
		days = 0
	}
	return math.Exp2(-days / 730)
}

// BudgetFit is the budget feature for a demand's budget and an
// achievement's asking price (see budgetFit): 1 when the price is within
// the budget, the ratio when above, 0.75 for 面议, 0.5 when either is
// missing.
func BudgetFit(budget, price *medmatch.Price) float64 {
	return budgetFit(side{budget: budget}, side{price: price})
}
