package storetest

import (
	"context"
	"errors"
	"strings"
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

// testOwnership: shares must sum to 100% and 赋权 needs its agreement
// date; organizers and the owning institution read owners and shares, an
// enterprise a summary without names of people, shares, valuation or
// review trail — on every read path (Get, GetMany, List).
func testOwnership(t *testing.T, s medmatch.Store) {
	ctx := context.Background()
	inst := medmatch.Viewer{Role: medmatch.RoleInstitution, Institution: "东岚医科大学附属第一医院", KeyID: "k-inst"}
	a := Achievement("ach-own", inst.Institution)
	a.Ownership = &medmatch.Ownership{Basis: medmatch.BasisEmpowerment, AgreementDate: "2026-03-01", Owners: []medmatch.Owner{
		{Name: inst.Institution, Role: medmatch.OwnerInstitution, Share: 30},
		{Name: "发明人甲", Role: medmatch.OwnerInventor, Share: 50},
		{Name: "发明人乙", Role: medmatch.OwnerInventor, Share: 20},
	}}
	a.Valuation = &medmatch.Valuation{Method: medmatch.ValuationMarket, Min: 100, Max: 200, Date: "2026-11-01", By: "评估组"}
	for _, c := range []struct {
		edit  func(o *medmatch.Ownership)
		field string
	}{
		{func(o *medmatch.Ownership) { o.Owners[2].Share = 10 }, "ownership.owners"},
		{func(o *medmatch.Ownership) { o.AgreementDate = "" }, "ownership.agreement_date"},
		{func(o *medmatch.Ownership) { o.Basis = "gift" }, "ownership.basis"},
		{func(o *medmatch.Ownership) { o.Owners[1].Role = "friend" }, "ownership.owners[1].role"},
	} {
		bad := *a
		own := *a.Ownership
		own.Owners = append([]medmatch.Owner(nil), a.Ownership.Owners...)
		bad.Ownership = &own
		c.edit(bad.Ownership)
		_, err := s.Create(ctx, organizer, &bad)
		if medmatch.ErrorCode(err) != medmatch.EINVALID {
			t.Fatalf("ownership %+v: %v; want invalid", bad.Ownership, err)
		}
		if !hasField(err, c.field) {
			t.Errorf("ownership %+v: %v; want the field %s named", bad.Ownership, err, c.field)
		}
	}
	must[medmatch.Record](t)(s.Create(ctx, organizer, a))
	page := func(v medmatch.Viewer) *medmatch.Achievement {
		pg := must[*medmatch.Page](t)(s.List(ctx, v, medmatch.KindAchievement, medmatch.ListOptions{}))
		for _, r := range pg.Records {
			if r.Base().ID == "ach-own" {
				return r.(*medmatch.Achievement)
			}
		}
		t.Fatalf("List as %+v: no ach-own", v)
		return nil
	}
	many := func(v medmatch.Viewer) *medmatch.Achievement {
		rs := must[[]medmatch.Record](t)(s.GetMany(ctx, v, []medmatch.Ref{{Kind: medmatch.KindAchievement, ID: "ach-own"}}))
		return rs[0].(*medmatch.Achievement)
	}
	get := func(v medmatch.Viewer) *medmatch.Achievement {
		return must[medmatch.Record](t)(s.Get(ctx, v, medmatch.KindAchievement, "ach-own")).(*medmatch.Achievement)
	}
	for name, read := range map[string]func(medmatch.Viewer) *medmatch.Achievement{"Get": get, "GetMany": many, "List": page} {
		for _, v := range []medmatch.Viewer{organizer, inst} {
			if got := read(v); got.Ownership == nil || len(got.Ownership.Owners) != 3 || got.Valuation == nil || len(got.History) == 0 {
				t.Errorf("%s as %s: ownership %+v, valuation %+v, history %d; want the detail", name, v.Role, got.Ownership, got.Valuation, len(got.History))
			}
		}
		got := read(ent1)
		if got.Ownership == nil || len(got.Ownership.Owners) != 0 || got.Ownership.Summary == "" || got.Valuation != nil || got.History != nil {
			t.Errorf("%s as an enterprise: ownership %+v, valuation %+v, history %v; want a summary only", name, got.Ownership, got.Valuation, got.History)
		}
		if got.Ownership != nil && (strings.Contains(got.Ownership.Summary, "发明人甲") || !strings.Contains(got.Ownership.Summary, "2 名发明人")) {
			t.Errorf("%s as an enterprise: summary %q names a person or miscounts", name, got.Ownership.Summary)
		}
	}
	// Redaction never reaches the stored record.
	if got := get(organizer); len(got.Ownership.Owners) != 3 {
		t.Errorf("after reads by an enterprise the stored ownership is %+v", got.Ownership)
	}
}

func hasField(err error, field string) bool {
	var me *medmatch.Error
	if !errors.As(err, &me) {
		return false
	}
	if me.Field == field {
		return true
	}
	for _, d := range me.Details {
		if d.Field == field {
			return true
		}
	}
	return false
}
