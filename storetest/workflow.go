package storetest

import (
	"context"
	"testing"

	"github.com/medmatch/medmatch"
)

// testWorkflow: the disclosure workflow — an institution writes a draft
// and submits it, an organizer requests changes (with a note), the
// institution resubmits, the organizer publishes and values it; every
// status change is in the history with who made it; an institution
// cannot publish or value, nor rewrite the history.
func testWorkflow(t *testing.T, s medmatch.Store) {
	ctx := context.Background()
	inst := medmatch.Viewer{Role: medmatch.RoleInstitution, Institution: "东岚医科大学附属第一医院", KeyID: "k-inst"}
	org := organizer
	a := Achievement("ach-wf", inst.Institution)
	a.Status = medmatch.StatusDraft
	r := must[medmatch.Record](t)(s.Create(ctx, inst, a))
	step := func(v medmatch.Viewer, edit func(a *medmatch.Achievement)) (*medmatch.Achievement, error) {
		cur := must[medmatch.Record](t)(s.Get(ctx, org, medmatch.KindAchievement, "ach-wf")).(*medmatch.Achievement)
		edit(cur)
		r, err := s.Update(ctx, v, cur)
		if err != nil {
			return nil, err
		}
		return r.(*medmatch.Achievement), nil
	}
	if _, err := step(inst, func(a *medmatch.Achievement) { a.Status = medmatch.StatusPublished }); medmatch.ErrorCode(err) != medmatch.EFORBIDDEN {
		t.Fatalf("an institution publishing: %v; want forbidden", err)
	}
	if _, err := step(inst, func(a *medmatch.Achievement) { a.Status = medmatch.StatusSubmitted }); err != nil {
		t.Fatal(err)
	}
	_, err := step(org, func(a *medmatch.Achievement) { a.Status = medmatch.StatusChangesRequested })
	code(t, err, medmatch.EINVALID)
	if _, err := step(org, func(a *medmatch.Achievement) {
		a.Status, a.ReviewNote = medmatch.StatusChangesRequested, "请补充动物实验数据"
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := step(inst, func(a *medmatch.Achievement) {
		a.Status, a.Description = medmatch.StatusSubmitted, a.Description+"已补充动物实验数据。"
		a.Valuation = &medmatch.Valuation{Method: medmatch.ValuationCost, Min: 1, Max: 2, Date: "2026-11-01", By: "自评"}
	}); medmatch.ErrorCode(err) != medmatch.EFORBIDDEN {
		t.Fatalf("an institution valuing its own achievement: %v; want forbidden", err)
	}
	if _, err := step(inst, func(a *medmatch.Achievement) {
		a.Status, a.Description = medmatch.StatusSubmitted, a.Description+"已补充动物实验数据。"
		a.History = []medmatch.Transition{{To: medmatch.StatusPublished, By: "forged"}}
	}); err != nil {
		t.Fatal(err)
	}
	_, err = step(org, func(a *medmatch.Achievement) {
		a.Valuation = &medmatch.Valuation{Method: "guess", Min: 300, Max: 200, Date: "2026-13-01", By: ""}
	})
	code(t, err, medmatch.EINVALID)
	final, err := step(org, func(a *medmatch.Achievement) {
		a.Status = medmatch.StatusPublished
		a.Valuation = &medmatch.Valuation{Method: medmatch.ValuationIncome, Min: 300, Max: 500, Date: "2026-11-20", By: "市技术转移中心评估组"}
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		from, to  medmatch.Status
		principal string
		note      string
	}{
		{"", medmatch.StatusDraft, "inst:" + inst.Institution, ""},
		{medmatch.StatusDraft, medmatch.StatusSubmitted, "inst:" + inst.Institution, ""},
		{medmatch.StatusSubmitted, medmatch.StatusChangesRequested, medmatch.PrincipalStaff, "请补充动物实验数据"},
		{medmatch.StatusChangesRequested, medmatch.StatusSubmitted, "inst:" + inst.Institution, ""},
		{medmatch.StatusSubmitted, medmatch.StatusPublished, medmatch.PrincipalStaff, ""},
	}
	if len(final.History) != len(want) {
		t.Fatalf("history has %d transitions; want %d: %+v", len(final.History), len(want), final.History)
	}
	for i, w := range want {
		h := final.History[i]
		if h.From != w.from || h.To != w.to || h.Principal != w.principal || h.Note != w.note || h.At.IsZero() {
			t.Errorf("transition %d: %+v; want %s→%s by %s note %q", i, h, w.from, w.to, w.principal, w.note)
		}
	}
	if final.Valuation == nil || final.Valuation.Max != 500 {
		t.Errorf("valuation %+v", final.Valuation)
	}
	_ = r
}
