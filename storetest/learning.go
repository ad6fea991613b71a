package storetest

import (
	"bytes"
	"context"
	"testing"

	"github.com/medmatch/medmatch"
)

func testFeedback(t *testing.T, s medmatch.Store) {
	seed(t, s)
	ctx := context.Background()
	fb := func(src, tgt medmatch.Ref, a medmatch.FeedbackAction) *medmatch.Feedback {
		return &medmatch.Feedback{Source: src, Target: tgt, Action: a}
	}
	priv1 := medmatch.Ref{Kind: medmatch.KindDemand, ID: "dem-priv1"}
	pub := medmatch.Ref{Kind: medmatch.KindAchievement, ID: "ach-pub"}
	draft := medmatch.Ref{Kind: medmatch.KindAchievement, ID: "ach-draft"}
	demPub := medmatch.Ref{Kind: medmatch.KindDemand, ID: "dem-pub"}
	cases := []struct {
		name      string
		v         medmatch.Viewer
		f         *medmatch.Feedback
		code      string
		field     string
		principal string
	}{
		{"enterprise on its own private demand", ent1, fb(priv1, pub, medmatch.FeedbackInterest), "", "", "ent:ent-1"},
		{"organizer on anything", organizer, fb(demPub, draft, medmatch.FeedbackDismiss), "", "", medmatch.PrincipalStaff},
		{"institution on its own achievement", instA, fb(pub, demPub, medmatch.FeedbackInterest), "", "", "inst:" + instA.Institution},
		{"anonymous", anon, fb(demPub, pub, medmatch.FeedbackInterest), medmatch.EUNAUTHORIZED, "", ""},
		{"another enterprise's private demand is not found", ent2, fb(priv1, pub, medmatch.FeedbackInterest), medmatch.ENOTFOUND, "source", ""},
		{"a draft the enterprise may not read", ent1, fb(priv1, draft, medmatch.FeedbackInterest), medmatch.ENOTFOUND, "target", ""},
		{"neither record is the enterprise's", ent2, fb(demPub, pub, medmatch.FeedbackInterest), medmatch.EFORBIDDEN, "source", ""},
		{"reader", reader, fb(demPub, pub, medmatch.FeedbackInterest), medmatch.EFORBIDDEN, "source", ""},
		{"unknown action", organizer, fb(demPub, pub, "love"), medmatch.EINVALID, "action", ""},
		{"bad kind", organizer, fb(medmatch.Ref{Kind: "widget", ID: "x"}, pub, medmatch.FeedbackInterest), medmatch.EINVALID, "source.type", ""},
		{"missing target", organizer, fb(demPub, medmatch.Ref{Kind: medmatch.KindAchievement, ID: "nope"}, medmatch.FeedbackDeal), medmatch.ENOTFOUND, "target", ""},
	}
	var want int
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := s.AddFeedback(ctx, c.v, c.f)
			code(t, err, c.code)
			if c.code != "" {
				if e, ok := err.(*medmatch.Error); !ok || e.Field != c.field {
					t.Fatalf("error %v; want field %q", err, c.field)
				}
				return
			}
			want++
			if c.f.ID == "" || c.f.At.IsZero() || c.f.Principal != c.principal {
				t.Fatalf("stored feedback %+v; want id, time and principal %q", c.f, c.principal)
			}
		})
	}
	var got []medmatch.Feedback
	must[struct{}](t)(struct{}{}, s.Feedback(ctx, organizer, func(f medmatch.Feedback) error { got = append(got, f); return nil }))
	if len(got) != want {
		t.Fatalf("Feedback listed %d entries; want %d", len(got), want)
	}
	if got[0].Source != priv1 || got[0].Action != medmatch.FeedbackInterest || got[1].Target != draft {
		t.Fatalf("Feedback order/content wrong: %+v", got)
	}
	code(t, s.Feedback(ctx, ent1, func(medmatch.Feedback) error { return nil }), medmatch.EFORBIDDEN)
	code(t, s.Feedback(ctx, anon, func(medmatch.Feedback) error { return nil }), medmatch.EUNAUTHORIZED)
}

func testArtifacts(t *testing.T, s medmatch.Store) {
	ctx := context.Background()
	_, err := s.Artifact(ctx, "weights", 0)
	code(t, err, medmatch.ENOTFOUND)
	code(t, s.PutArtifact(ctx, ent1, &medmatch.Artifact{Name: "weights", Data: []byte("x")}), medmatch.EFORBIDDEN)
	code(t, s.PutArtifact(ctx, anon, &medmatch.Artifact{Name: "weights", Data: []byte("x")}), medmatch.EUNAUTHORIZED)
	code(t, s.PutArtifact(ctx, organizer, &medmatch.Artifact{Name: "bad name!", Data: []byte("x")}), medmatch.EINVALID)
	for i, data := range []string{"one", "two", "three"} {
		a := &medmatch.Artifact{Name: "weights", Note: data, Data: []byte(data)}
		if err := s.PutArtifact(ctx, organizer, a); err != nil {
			t.Fatal(err)
		}
		if a.Version != int64(i+1) || !a.Active || a.Size != len(data) {
			t.Fatalf("PutArtifact = %+v; want version %d, active", a, i+1)
		}
	}
	// Another name counts its own versions.
	other := &medmatch.Artifact{Name: "lsa", Data: bytes.Repeat([]byte{7}, 1<<20)}
	must[struct{}](t)(struct{}{}, s.PutArtifact(ctx, admin, other))
	if other.Version != 1 {
		t.Fatalf("first lsa version = %d; want 1", other.Version)
	}
	active := func(wantVersion int64, wantData string) {
		t.Helper()
		a := must[*medmatch.Artifact](t)(s.Artifact(ctx, "weights", 0))
		if a.Version != wantVersion || string(a.Data) != wantData || !a.Active {
			t.Fatalf("active weights = v%d %q active=%v; want v%d %q", a.Version, a.Data, a.Active, wantVersion, wantData)
		}
	}
	active(3, "three")
	list := must[[]medmatch.Artifact](t)(s.Artifacts(ctx, "weights"))
	if len(list) != 3 || list[0].Version != 3 || !list[0].Active || list[2].Active || list[0].Data != nil {
		t.Fatalf("Artifacts = %+v; want v3 (active), v2, v1 without data", list)
	}
	// Roll back, then forward.
	must[struct{}](t)(struct{}{}, s.ActivateArtifact(ctx, organizer, "weights", 1))
	active(1, "one")
	a2 := must[*medmatch.Artifact](t)(s.Artifact(ctx, "weights", 2))
	if a2.Active || string(a2.Data) != "two" {
		t.Fatalf("Artifact(weights, 2) = %+v", a2)
	}
	code(t, s.ActivateArtifact(ctx, organizer, "weights", 9), medmatch.ENOTFOUND)
	code(t, s.ActivateArtifact(ctx, ent1, "weights", 2), medmatch.EFORBIDDEN)
	_, err = s.Artifact(ctx, "weights", 9)
	code(t, err, medmatch.ENOTFOUND)
	// A new version becomes active again.
	must[struct{}](t)(struct{}{}, s.PutArtifact(ctx, organizer, &medmatch.Artifact{Name: "weights", Data: []byte("four")}))
	active(4, "four")
	if a := must[*medmatch.Artifact](t)(s.Artifact(ctx, "lsa", 0)); len(a.Data) != 1<<20 {
		t.Fatalf("lsa data = %d bytes", len(a.Data))
	}
}
