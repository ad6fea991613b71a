package matcher_test

import (
	"context"
	"math"
	"sync"
	"testing"

	"github.com/medmatch/medmatch"
	"github.com/medmatch/medmatch/bolt"
	"github.com/medmatch/medmatch/dict"
	"github.com/medmatch/medmatch/fixtures"
	"github.com/medmatch/medmatch/indexer"
	"github.com/medmatch/medmatch/matcher"
)

type env struct {
	store *bolt.Store
	ix    *indexer.Index
	m     *matcher.Matcher
	recs  map[medmatch.Ref]medmatch.Record
}

var (
	shared     *env
	sharedOnce sync.Once
	sharedErr  error
)

// demo loads the demo catalogue into one store, index and matcher shared
// by the read-only tests, with a semantic model fitted on it.
func demo(t *testing.T) *env {
	t.Helper()
	sharedOnce.Do(func() { shared, sharedErr = open(t.TempDir()) })
	if sharedErr != nil {
		t.Fatal(sharedErr)
	}
	return shared
}

func open(dir string) (*env, error) {
	ctx := context.Background()
	s, err := bolt.Open(dir, bolt.Options{Taxonomy: dict.MustTaxonomy()})
	if err != nil {
		return nil, err
	}
	recs, err := fixtures.Records()
	if err != nil {
		return nil, err
	}
	if _, err := s.Import(ctx, medmatch.System, recs, medmatch.ImportOptions{}); err != nil {
		return nil, err
	}
	ix, err := indexer.Open(ctx, indexer.Dir(dir), s, indexer.Options{})
	if err != nil {
		return nil, err
	}
	m, err := matcher.New(ctx, s, ix, matcher.Options{})
	if err != nil {
		return nil, err
	}
	model, err := m.FitModel(ctx, matcher.FitOptions{K: 48, Seed: 1})
	if err != nil {
		return nil, err
	}
	if _, err := m.SaveModel(ctx, medmatch.System, model, "test"); err != nil {
		return nil, err
	}
	e := &env{store: s, ix: ix, m: m, recs: map[medmatch.Ref]medmatch.Record{}}
	for _, r := range recs {
		e.recs[medmatch.Ref{Kind: r.Kind(), ID: r.Base().ID}] = r
	}
	return e, nil
}

var (
	organizer = medmatch.Viewer{Role: medmatch.RoleOrganizer}
	anon      = medmatch.Viewer{}
	reader    = medmatch.Viewer{Role: medmatch.RoleReader}
	ent1      = medmatch.Viewer{Role: medmatch.RoleEnterprise, Enterprise: "ent-001"}
	ent2      = medmatch.Viewer{Role: medmatch.RoleEnterprise, Enterprise: "ent-002"}
	inst      = medmatch.Viewer{Role: medmatch.RoleInstitution, Institution: "东岚医科大学附属第一医院"}
)

func ref(k medmatch.Kind, id string) *medmatch.Ref { return &medmatch.Ref{Kind: k, ID: id} }

func TestDirections(t *testing.T) {
	e := demo(t)
	ctx := context.Background()
	cases := []struct {
		name   string
		v      medmatch.Viewer
		req    matcher.Request
		target medmatch.Kind
		code   string
		field  string
	}{
		{"demand to achievements", anon, matcher.Request{Source: ref(medmatch.KindDemand, "dem-001")}, medmatch.KindAchievement, "", ""},
		{"need to achievements", anon, matcher.Request{Source: ref(medmatch.KindNeed, "need-001")}, medmatch.KindAchievement, "", ""},
		{"need to teams", anon, matcher.Request{Source: ref(medmatch.KindNeed, "need-001"), Target: medmatch.KindTeam}, medmatch.KindTeam, "", ""},
		{"need to enterprises, organizer", organizer, matcher.Request{Source: ref(medmatch.KindNeed, "need-001"), Target: medmatch.KindEnterprise}, medmatch.KindEnterprise, "", ""},
		{"achievement to enterprises, organizer", organizer, matcher.Request{Source: ref(medmatch.KindAchievement, "ach-0001")}, medmatch.KindEnterprise, "", ""},
		{"achievement to enterprises, own institution", inst, matcher.Request{Source: ref(medmatch.KindAchievement, "ach-0001")}, medmatch.KindEnterprise, "", ""},
		{"achievement to enterprises, an enterprise", ent1, matcher.Request{Source: ref(medmatch.KindAchievement, "ach-0001")}, "", medmatch.EFORBIDDEN, "target"},
		{"achievement to enterprises, a reader", reader, matcher.Request{Source: ref(medmatch.KindAchievement, "ach-0001")}, "", medmatch.EFORBIDDEN, "target"},
		{"achievement to enterprises, anonymous", anon, matcher.Request{Source: ref(medmatch.KindAchievement, "ach-0001")}, "", medmatch.EUNAUTHORIZED, ""},
		{"free text", anon, matcher.Request{Text: "帕金森病 脑深部电刺激 闭环算法"}, medmatch.KindAchievement, "", ""},
		{"free text to teams", anon, matcher.Request{Text: "柔性电子 可穿戴 传感", Target: medmatch.KindTeam}, medmatch.KindTeam, "", ""},
		{"private demand, its enterprise", ent1, matcher.Request{Source: ref(medmatch.KindDemand, "dem-002")}, medmatch.KindAchievement, "", ""},
		{"private demand, another enterprise", ent2, matcher.Request{Source: ref(medmatch.KindDemand, "dem-002")}, "", medmatch.ENOTFOUND, "source"},
		{"private demand, anonymous", anon, matcher.Request{Source: ref(medmatch.KindDemand, "dem-002")}, "", medmatch.ENOTFOUND, "source"},
		{"missing demand", organizer, matcher.Request{Source: ref(medmatch.KindDemand, "dem-999")}, "", medmatch.ENOTFOUND, "source"},
		{"team as source", organizer, matcher.Request{Source: ref(medmatch.KindTeam, "team-01")}, "", medmatch.EINVALID, "source"},
		{"demand to teams", organizer, matcher.Request{Source: ref(medmatch.KindDemand, "dem-001"), Target: medmatch.KindTeam}, "", medmatch.EINVALID, "target"},
		{"empty text", anon, matcher.Request{Text: "  "}, "", medmatch.EINVALID, "text"},
		{"limit too high", anon, matcher.Request{Text: "支架", Limit: 101}, "", medmatch.EINVALID, "limit"},
		{"unknown model", anon, matcher.Request{Text: "支架", Model: "magic"}, "", medmatch.EINVALID, "model"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := e.m.Match(ctx, c.v, c.req)
			if got := medmatch.ErrorCode(err); got != c.code {
				t.Fatalf("error %v (code %q); want code %q", err, got, c.code)
			}
			if c.code != "" {
				if me, ok := err.(*medmatch.Error); !ok || me.Field != c.field {
					t.Fatalf("error %v; want field %q", err, c.field)
				}
				return
			}
			if len(res.Matches) == 0 {
				t.Fatalf("no matches")
			}
			for _, m := range res.Matches {
				if m.Kind != c.target {
					t.Fatalf("match %s %s; want only %ss", m.Kind, m.ID, c.target)
				}
				if c.req.Source != nil && m.Kind == c.req.Source.Kind && m.ID == c.req.Source.ID {
					t.Fatalf("the source matched itself")
				}
				if !medmatch.CanRead(c.v, m.Record) {
					t.Fatalf("%s %s is not readable by the viewer", m.Kind, m.ID)
				}
			}
		})
	}
}

// The DBS demand finds the DBS system near the top, and the explanation
// adds up.
func TestExplanationsAddUp(t *testing.T) {
	e := demo(t)
	ctx := context.Background()
	for _, model := range matcher.Models {
		res, err := e.m.Match(ctx, organizer, matcher.Request{Source: ref(medmatch.KindDemand, "dem-001"), Model: model, Limit: 50})
		if err != nil {
			t.Fatal(err)
		}
		for i, m := range res.Matches {
			sum := m.Explanation.Bias
			for _, f := range m.Explanation.Features {
				if math.Abs(f.Value*f.Weight-f.Contribution) > 1e-12 {
					t.Fatalf("%s: %s contribution %v ≠ %v × %v", model, f.Name, f.Contribution, f.Value, f.Weight)
				}
				if f.Value < 0 || f.Value > 1 {
					t.Fatalf("%s: feature %s = %v outside [0,1]", model, f.Name, f.Value)
				}
				sum += f.Contribution
			}
			if math.Abs(sum-m.Score) > 1e-9 {
				t.Fatalf("%s: match %s: bias + contributions = %v; score %v", model, m.ID, sum, m.Score)
			}
			if i > 0 && m.Score > res.Matches[i-1].Score {
				t.Fatalf("%s: matches not sorted by score", model)
			}
		}
		if model == matcher.ModelBM25 || model == matcher.ModelDefault {
			found := false
			for _, m := range res.Matches[:5] {
				found = found || m.ID == "ach-0001"
			}
			if !found {
				t.Errorf("%s: ach-0001 (rechargeable DBS) not in the top 5 for the DBS demand", model)
			}
		}
	}
}

// Matches never show records the viewer may not read: an enterprise
// matching free text sees no draft or organizers-only achievement, and an
// institution looking for interested enterprises sees no private demand.
func TestMatchesRespectVisibility(t *testing.T) {
	e := demo(t)
	ctx := context.Background()
	hidden := 0
	for _, r := range e.recs {
		if a, ok := r.(*medmatch.Achievement); ok && !medmatch.CanRead(ent1, a) {
			hidden++
			res, err := e.m.Match(ctx, ent1, matcher.Request{Text: a.Title + " " + a.Summary, Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range res.Scored() {
				if m.ID == a.ID {
					t.Fatalf("enterprise matched %s (status %s, visibility %s)", a.ID, a.Status, a.Visibility)
				}
			}
			// Staff do see it (it is in the index).
			if a.Status == medmatch.StatusPublished {
				res, err := e.m.Match(ctx, organizer, matcher.Request{Text: a.Title + " " + a.Summary, Limit: 100})
				if err != nil {
					t.Fatal(err)
				}
				found := false
				for _, m := range res.Scored() {
					found = found || m.ID == a.ID
				}
				if !found {
					t.Errorf("organizer did not match %s by its own title", a.ID)
				}
			}
		}
	}
	if hidden == 0 {
		t.Fatal("the demo catalogue has no achievement hidden from enterprises")
	}
	for _, v := range []medmatch.Viewer{inst, organizer} {
		res, err := e.m.Match(ctx, v, matcher.Request{Source: ref(medmatch.KindAchievement, "ach-0001"), Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		private := 0
		for _, m := range res.Scored() {
			if m.Via == nil {
				continue
			}
			d := e.recs[*m.Via].(*medmatch.Demand)
			if d.Visibility == medmatch.DemandPrivate {
				private++
				if !v.Staff() {
					t.Fatalf("institution saw enterprise %s through private demand %s", m.ID, d.ID)
				}
			}
		}
		if v.Staff() && private == 0 {
			t.Errorf("organizer saw no enterprise through a private demand; the test proves nothing")
		}
	}
}

func TestTrainAndRollBack(t *testing.T) {
	ctx := context.Background()
	e, err := open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer e.ix.Close()
	defer e.store.Close()
	labels := []matcher.Label{
		{Query: *ref(medmatch.KindDemand, "dem-001"), Candidate: *ref(medmatch.KindAchievement, "ach-0001"), Grade: 3},
		{Query: *ref(medmatch.KindDemand, "dem-001"), Candidate: *ref(medmatch.KindAchievement, "ach-0137"), Grade: 0},
		{Query: *ref(medmatch.KindNeed, "need-001"), Candidate: *ref(medmatch.KindAchievement, "ach-0001"), Grade: 0},
	}
	if _, err := e.m.Train(ctx, ent1, matcher.TrainRequest{Labels: labels}); medmatch.ErrorCode(err) != medmatch.EFORBIDDEN {
		t.Fatalf("enterprise trained: %v", err)
	}
	// Feedback joins the labels.
	if err := e.store.AddFeedback(ctx, ent1, &medmatch.Feedback{Source: *ref(medmatch.KindDemand, "dem-001"),
		Target: *ref(medmatch.KindAchievement, "ach-0002"), Action: medmatch.FeedbackInterest}); err != nil {
		t.Fatal(err)
	}
	rep, err := e.m.Train(ctx, organizer, matcher.TrainRequest{Labels: labels})
	if err != nil {
		t.Fatal(err)
	}
	if rep.WeightsVersion != 1 || rep.Feedback != 1 || rep.Labels != 3 || rep.Queries != 2 || rep.SemanticVersion != 0 {
		t.Fatalf("report %+v; want weights v1 from 3 labels and 1 feedback over 2 queries, semantic model kept", rep)
	}
	res, err := e.m.Match(ctx, organizer, matcher.Request{Source: ref(medmatch.KindDemand, "dem-001")})
	if err != nil {
		t.Fatal(err)
	}
	if res.Weights != 1 || res.Matches[0].Explanation.Features[0].Weight != rep.Weights.W[0] {
		t.Fatalf("match used weights v%d; want the trained v1", res.Weights)
	}
	// A second training run refits the semantic model too; roll back both.
	rep2, err := e.m.Train(ctx, organizer, matcher.TrainRequest{Labels: labels, Semantic: true, K: 16})
	if err != nil {
		t.Fatal(err)
	}
	if rep2.WeightsVersion != 2 || rep2.SemanticVersion != 2 {
		t.Fatalf("second report %+v; want weights v2 and semantic v2", rep2)
	}
	if err := e.store.ActivateArtifact(ctx, organizer, matcher.ArtifactWeights, 1); err != nil {
		t.Fatal(err)
	}
	if err := e.m.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	res, err = e.m.Match(ctx, organizer, matcher.Request{Source: ref(medmatch.KindDemand, "dem-001")})
	if err != nil {
		t.Fatal(err)
	}
	if res.Weights != 1 || res.Semantic != 2 {
		t.Fatalf("after rollback: weights v%d semantic v%d; want v1 and v2", res.Weights, res.Semantic)
	}
	// The learned weights order the labelled pair as labelled.
	pos := map[string]int{}
	for i, m := range res.Scored() {
		pos[m.ID] = i
	}
	if pos["ach-0001"] > pos["ach-0137"] {
		t.Errorf("learned weights rank ach-0137 (grade 0) above ach-0001 (grade 3)")
	}
}
