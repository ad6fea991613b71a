package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/medmatch/medmatch"
	"github.com/medmatch/medmatch/api"
	"github.com/medmatch/medmatch/bolt"
	"github.com/medmatch/medmatch/dict"
	"github.com/medmatch/medmatch/fixtures"
	"github.com/medmatch/medmatch/indexer"
	"github.com/medmatch/medmatch/matcher"
	"github.com/medmatch/medmatch/matcher/roadshow"
)

// env is a real server over a real store and index in a temp dir, loaded
// with the demo catalogue, with one key per role.
type env struct {
	t     *testing.T
	url   string
	store *bolt.Store
	srv   *api.Server
	keys  map[string]string
}

func newEnv(t *testing.T, opts ...func(*api.Config)) *env {
	t.Helper()
	dir := t.TempDir()
	s, err := bolt.Open(dir, bolt.Options{Taxonomy: dict.MustTaxonomy()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	recs, err := fixtures.Records()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := s.Import(ctx, medmatch.System, recs, medmatch.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	cfg := api.Config{Store: s}
	for _, o := range opts {
		o(&cfg)
	}
	srv := api.New(cfg)
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	ix, err := indexer.Open(ctx, indexer.Dir(dir), s, indexer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	fctx, cancel := context.WithCancel(ctx)
	t.Cleanup(cancel)
	go ix.Follow(fctx)
	m, err := matcher.New(ctx, s, ix, matcher.Options{})
	if err != nil {
		t.Fatal(err)
	}
	model, err := m.FitModel(ctx, matcher.FitOptions{K: 32, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.SaveModel(ctx, medmatch.System, model, "test"); err != nil {
		t.Fatal(err)
	}
	srv.SetIndex(ix, m)
	<-ix.SuggestionsReady()
	e := &env{t: t, url: hs.URL, store: s, srv: srv, keys: map[string]string{}}
	for name, v := range map[string]medmatch.Viewer{
		"admin":     {Role: medmatch.RoleAdmin},
		"organizer": {Role: medmatch.RoleOrganizer},
		"reader":    {Role: medmatch.RoleReader},
		"ent1":      {Role: medmatch.RoleEnterprise, Enterprise: "ent-001"},
		"ent2":      {Role: medmatch.RoleEnterprise, Enterprise: "ent-002"},
		"inst":      {Role: medmatch.RoleInstitution, Institution: "东岚医科大学附属第一医院"},
	} {
		k, secret, err := medmatch.NewKey(v, name, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if err := s.CreateKey(ctx, medmatch.System, k); err != nil {
			t.Fatal(err)
		}
		e.keys[name] = secret
	}
	return e
}

type resp struct {
	status int
	header http.Header
	body   []byte
}

func (r resp) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

// apiError is the body of every error response.
type apiError struct {
	Error struct {
		Code, Message, Field string
	}
}

func (e *env) do(method, path, key, contentType string, body io.Reader) resp {
	e.t.Helper()
	req, err := http.NewRequest(method, e.url+path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return resp{res.StatusCode, res.Header, b}
}

func (e *env) get(path, who string) resp { return e.do("GET", path, e.keys[who], "", nil) }

func (e *env) send(method, path, who string, v any) resp {
	var b []byte
	switch v := v.(type) {
	case string:
		b = []byte(v)
	default:
		b, _ = json.Marshal(v)
	}
	return e.do(method, path, e.keys[who], "application/json", bytes.NewReader(b))
}

const validAchievement = `{"title":"可降解镁合金骨钉","description":"用于骨折内固定的可降解镁合金骨钉，12个月内降解。","institution":"东岚骨科医院","specialty":"骨科","fields":["生物材料"],"maturity":"preclinical"}`

func TestErrors(t *testing.T) {
	e := newEnv(t)
	long := strings.Repeat("心", 257)
	cases := []struct {
		name, method, path, who, ctype, body string
		status                               int
		code, field                          string
	}{
		{"anonymous write", "POST", "/api/v1/achievements", "", "application/json", validAchievement, 401, "unauthorized", ""},
		{"unknown key", "POST", "/api/v1/achievements", "nokey", "application/json", validAchievement, 401, "unauthorized", "Authorization"},
		{"reader write", "POST", "/api/v1/achievements", "reader", "application/json", validAchievement, 403, "forbidden", ""},
		{"enterprise writes achievement", "POST", "/api/v1/achievements", "ent1", "application/json", validAchievement, 403, "forbidden", ""},
		{"malformed JSON", "POST", "/api/v1/achievements", "organizer", "application/json", `{"title":`, 400, "invalid", ""},
		{"unknown field", "POST", "/api/v1/achievements", "organizer", "application/json", `{"titel":"x"}`, 400, "invalid", "titel"},
		{"wrong type", "POST", "/api/v1/achievements", "organizer", "application/json", `{"fields":"医疗器械"}`, 400, "invalid", "fields"},
		{"missing field", "POST", "/api/v1/achievements", "organizer", "application/json", `{"title":"x","institution":"y","specialty":"骨科","fields":["生物材料"],"maturity":"idea"}`, 400, "invalid", "description"},
		{"bad code", "POST", "/api/v1/achievements", "organizer", "application/json", strings.Replace(validAchievement, "preclinical", "ripe", 1), 400, "invalid", "maturity"},
		{"not JSON", "POST", "/api/v1/achievements", "organizer", "text/plain", validAchievement, 415, "unsupported", "Content-Type"},
		{"too large", "POST", "/api/v1/achievements", "organizer", "application/json", `{"title":"` + strings.Repeat("x", 2<<20) + `"}`, 413, "too_large", "body"},
		{"missing record", "GET", "/api/v1/achievements/nope", "", "", "", 404, "not_found", "id"},
		{"no route", "GET", "/api/v1/nothing", "", "", "", 404, "not_found", ""},
		{"bad method", "DELETE", "/api/v1/search", "admin", "", "", 405, "method_not_allowed", ""},
		{"duplicate id", "POST", "/api/v1/enterprises", "organizer", "application/json", `{"id":"ent-001","name":"重复"}`, 409, "conflict", "id"},
		{"long query", "GET", "/api/v1/search?q=" + long, "", "", "", 400, "invalid", "q"},
		{"limit above cap", "GET", "/api/v1/search?q=x&limit=101", "", "", "", 400, "invalid", "limit"},
		{"limit not a number", "GET", "/api/v1/search?q=x&limit=ten", "", "", "", 400, "invalid", "limit"},
		{"limit zero", "GET", "/api/v1/achievements?limit=0", "", "", "", 400, "invalid", "limit"},
		{"list limit above cap", "GET", "/api/v1/achievements?limit=1001", "", "", "", 400, "invalid", "limit"},
		{"bad list cursor", "GET", "/api/v1/achievements?cursor=zzz", "", "", "", 400, "invalid", "cursor"},
		{"bad search cursor", "GET", "/api/v1/search?q=x&cursor=zzz", "", "", "", 400, "invalid", "cursor"},
		{"bad type", "GET", "/api/v1/search?q=x&type=patent", "", "", "", 400, "invalid", "type"},
		{"bad operator", "GET", "/api/v1/search?q=x&operator=xor", "", "", "", 400, "invalid", "operator"},
		{"suggest limit", "GET", "/api/v1/suggest?q=x&limit=50", "", "", "", 400, "invalid", "limit"},
		{"unknown search parameter", "GET", "/api/v1/search?q=x&specialtyy=骨科", "", "", "", 400, "invalid", "specialtyy"},
		{"bad sort", "GET", "/api/v1/search?q=x&sort=cheapest", "", "", "", 400, "invalid", "sort"},
		{"bad facet", "GET", "/api/v1/search?q=x&facets=colour", "", "", "", 400, "invalid", "facets"},
		{"bad filter value", "GET", "/api/v1/search?q=x&maturity=ripe", "", "", "", 400, "invalid", "maturity"},
		{"bad price", "GET", "/api/v1/search?q=x&price_min=cheap", "", "", "", 400, "invalid", "price_min"},
		{"bad date", "GET", "/api/v1/search?q=x&updated_from=yesterday", "", "", "", 400, "invalid", "updated_from"},
		{"unclosed quote", "GET", "/api/v1/search?q=%22x", "", "", "", 400, "invalid", "q"},
		{"unknown query field", "GET", "/api/v1/search?q=colour:red", "", "", "", 400, "invalid", "q"},
		{"import anonymous", "POST", "/api/v1/import?format=jsonl", "", "application/x-ndjson", "{}", 401, "unauthorized", ""},
		{"import no format", "POST", "/api/v1/import", "organizer", "", "{}", 415, "unsupported", "format"},
		{"import bad flag", "POST", "/api/v1/import?format=csv&dry_run=maybe", "organizer", "", "title\nx\n", 400, "invalid", "dry_run"},
		{"key by organizer", "POST", "/api/v1/keys", "organizer", "application/json", `{"role":"reader"}`, 403, "forbidden", ""},
		{"key bad role", "POST", "/api/v1/keys", "admin", "application/json", `{"role":"king"}`, 400, "invalid", "role"},
		{"key missing enterprise", "POST", "/api/v1/keys", "admin", "application/json", `{"role":"enterprise","enterprise":"ent-999"}`, 400, "invalid", "enterprise"},
		{"reindex by organizer", "POST", "/api/v1/admin/reindex", "organizer", "", "", 403, "forbidden", ""},
		{"match bad target", "GET", "/api/v1/demands/dem-001/matches?target=teams", "", "", "", 400, "invalid", "target"},
		{"match unknown target", "GET", "/api/v1/demands/dem-001/matches?target=robots", "", "", "", 400, "invalid", "target"},
		{"match limit", "GET", "/api/v1/demands/dem-001/matches?limit=500", "", "", "", 400, "invalid", "limit"},
		{"match limit zero", "GET", "/api/v1/demands/dem-001/matches?limit=0", "", "", "", 400, "invalid", "limit"},
		{"match model", "GET", "/api/v1/demands/dem-001/matches?model=magic", "", "", "", 400, "invalid", "model"},
		{"match missing demand", "GET", "/api/v1/demands/dem-999/matches", "", "", "", 404, "not_found", "source"},
		{"match private demand", "GET", "/api/v1/demands/dem-002/matches", "ent2", "", "", 404, "not_found", "source"},
		{"interested enterprises, enterprise", "GET", "/api/v1/achievements/ach-0001/matches", "ent1", "", "", 403, "forbidden", "target"},
		{"interested enterprises, anonymous", "GET", "/api/v1/achievements/ach-0001/matches", "", "", "", 401, "unauthorized", ""},
		{"match text empty", "POST", "/api/v1/match", "", "application/json", `{"text":""}`, 400, "invalid", "text"},
		{"match text wrong type", "POST", "/api/v1/match", "", "application/json", `{"text":5}`, 400, "invalid", "text"},
		{"match text unknown field", "POST", "/api/v1/match", "", "application/json", `{"txt":"支架"}`, 400, "invalid", "txt"},
		{"match text to enterprises", "POST", "/api/v1/match", "", "application/json", `{"text":"支架","target":"enterprises"}`, 400, "invalid", "target"},
		{"match text too long", "POST", "/api/v1/match", "", "application/json", `{"text":"` + strings.Repeat("心", 5001) + `"}`, 400, "invalid", "text"},
		{"feedback anonymous", "POST", "/api/v1/feedback", "", "application/json", `{"source":{"type":"demand","id":"dem-001"},"target":{"type":"achievement","id":"ach-0001"},"action":"interest"}`, 401, "unauthorized", ""},
		{"feedback bad action", "POST", "/api/v1/feedback", "ent1", "application/json", `{"source":{"type":"demand","id":"dem-001"},"target":{"type":"achievement","id":"ach-0001"},"action":"like"}`, 400, "invalid", "action"},
		{"feedback other enterprise", "POST", "/api/v1/feedback", "ent2", "application/json", `{"source":{"type":"demand","id":"dem-001"},"target":{"type":"achievement","id":"ach-0001"},"action":"interest"}`, 403, "forbidden", "source"},
		{"feedback missing target", "POST", "/api/v1/feedback", "ent1", "application/json", `{"source":{"type":"demand","id":"dem-001"},"target":{"type":"achievement","id":"ach-9999"},"action":"interest"}`, 404, "not_found", "target"},
		{"feedback sets id", "POST", "/api/v1/feedback", "ent1", "application/json", `{"id":"x","source":{"type":"demand","id":"dem-001"},"target":{"type":"achievement","id":"ach-0001"},"action":"interest"}`, 400, "invalid", "id"},
		{"train by enterprise", "POST", "/api/v1/admin/train", "ent1", "application/json", `{}`, 403, "forbidden", ""},
		{"train bad label", "POST", "/api/v1/admin/train", "organizer", "application/json", `{"labels":[{"query":"dem-001","candidate":"nope","grade":2}]}`, 400, "invalid", "labels[0].candidate"},
		{"train bad grade", "POST", "/api/v1/admin/train", "organizer", "application/json", `{"labels":[{"query":"dem-001","candidate":"ach-0001","grade":7}]}`, 400, "invalid", "labels[0].grade"},
		{"train bad k", "POST", "/api/v1/admin/train", "organizer", "application/json", `{"k":500}`, 400, "invalid", "k"},
		{"models by reader", "GET", "/api/v1/admin/models", "reader", "", "", 403, "forbidden", ""},
		{"activate unknown version", "POST", "/api/v1/admin/models/weights/9/activate", "organizer", "", "", 404, "not_found", "version"},
		{"activate bad version", "POST", "/api/v1/admin/models/weights/first/activate", "organizer", "", "", 400, "invalid", "version"},
		{"activate unknown model", "POST", "/api/v1/admin/models/brain/1/activate", "organizer", "", "", 404, "not_found", "name"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			key := e.keys[c.who]
			if c.who == "nokey" {
				key = "mm_doesnotexist"
			}
			var body io.Reader
			if c.body != "" {
				body = strings.NewReader(c.body)
			}
			r := e.do(c.method, c.path, key, c.ctype, body)
			var ae apiError
			r.json(t, &ae)
			if r.status != c.status || ae.Error.Code != c.code || ae.Error.Field != c.field || ae.Error.Message == "" {
				t.Errorf("%s %s = %d %s; want %d code %q field %q", c.method, c.path, r.status, r.body, c.status, c.code, c.field)
			}
		})
	}
}

func TestSearchDemo(t *testing.T) {
	e := newEnv(t)
	r := e.get("/api/v1/search?q="+url.QueryEscape("脑起搏器"), "")
	var res struct {
		Total uint64
		Hits  []struct {
			Type, ID   string
			Highlights map[string][]string
			Record     map[string]any
		}
	}
	r.json(t, &res)
	if r.status != 200 || len(res.Hits) == 0 || res.Hits[0].ID != "ach-0001" {
		t.Fatalf("search 脑起搏器 = %d %s; want ach-0001 first", r.status, r.body)
	}
	if !strings.Contains(strings.Join(res.Hits[0].Highlights["title"], ""), "<mark>脑起搏器</mark>") {
		t.Errorf("highlights = %v; want <mark>脑起搏器</mark> in the title", res.Hits[0].Highlights)
	}
	if res.Hits[0].Record["title"] == nil {
		t.Errorf("hit carries no record: %v", res.Hits[0])
	}
	// Suggestions over the API, from pinyin initials.
	var sg struct{ Suggestions []struct{ Text, Type string } }
	e.get("/api/v1/suggest?q=nqbq", "").json(t, &sg)
	if len(sg.Suggestions) == 0 || sg.Suggestions[0].Text != "脑起搏器" {
		t.Errorf("suggest nqbq = %+v; want 脑起搏器 first", sg.Suggestions)
	}
	// Facets, filters and sort over the API.
	var fr struct {
		Total  int
		Facets map[string][]struct {
			Value string
			Count int
		}
		Hits []struct{ Record map[string]any }
	}
	r = e.get("/api/v1/search?type=achievement&specialty=骨科,康复&facets=all&sort=price&highlight=false&limit=5", "")
	r.json(t, &fr)
	if r.status != 200 || len(fr.Facets["specialty"]) < 3 || len(fr.Facets["updated"]) != 4 || fr.Total == 0 {
		t.Fatalf("faceted search = %d %s", r.status, r.body)
	}
	for _, h := range fr.Hits {
		if s := h.Record["specialty"]; s != "骨科" && s != "康复" {
			t.Errorf("filtered hit has specialty %v", s)
		}
	}
}

// TestPrivateDemands: an enterprise key never sees another enterprise's
// private demand, whether by id, in a list or in search.
func TestPrivateDemands(t *testing.T) {
	e := newEnv(t)
	r := e.send("POST", "/api/v1/demands", "ent1", map[string]any{"id": "dem-secret", "enterprise_id": "ent-001",
		"title": "机密需求：闭环神经调控算法", "description": "寻找帕金森病闭环神经调控算法合作", "visibility": "private"})
	if r.status != 201 {
		t.Fatalf("create private demand = %d %s", r.status, r.body)
	}
	for _, c := range []struct {
		who  string
		sees bool
	}{{"ent1", true}, {"organizer", true}, {"admin", true}, {"ent2", false}, {"reader", false}, {"", false}, {"inst", false}} {
		get := e.get("/api/v1/demands/dem-secret", c.who)
		if (get.status == 200) != c.sees {
			t.Errorf("%s GET private demand = %d; want visible %v", c.who, get.status, c.sees)
		}
		found := false
		for cursor := ""; ; {
			var p struct {
				Items      []map[string]any
				Total      int
				NextCursor string `json:"next_cursor"`
			}
			e.get("/api/v1/demands?limit=50&cursor="+cursor, c.who).json(t, &p)
			for _, it := range p.Items {
				found = found || it["id"] == "dem-secret"
				if it["visibility"] == "private" && it["enterprise_id"] != "ent-001" && c.who == "ent1" {
					t.Errorf("ent1 lists another enterprise's private demand %v", it["id"])
				}
			}
			if p.NextCursor == "" {
				break
			}
			cursor = p.NextCursor
		}
		if found != c.sees {
			t.Errorf("%s list includes private demand = %v; want %v", c.who, found, c.sees)
		}
		var res struct{ Hits []struct{ ID string } }
		e.get("/api/v1/search?type=demand&q="+url.QueryEscape("闭环神经调控算法"), c.who).json(t, &res)
		hit := false
		for _, h := range res.Hits {
			hit = hit || h.ID == "dem-secret"
		}
		if hit != c.sees {
			t.Errorf("%s search hits private demand = %v; want %v", c.who, hit, c.sees)
		}
	}
	// The demo catalogue's own private demands are invisible to others too.
	var p struct{ Total int }
	e.get("/api/v1/demands?limit=1", "").json(t, &p)
	var all struct{ Total int }
	e.get("/api/v1/demands?limit=1", "organizer").json(t, &all)
	if p.Total >= all.Total {
		t.Errorf("anonymous sees %d demands, organizer %d; private ones must be hidden", p.Total, all.Total)
	}
}

func TestWriteThenSearch(t *testing.T) {
	e := newEnv(t)
	r := e.send("POST", "/api/v1/achievements", "organizer", validAchievement)
	if r.status != 201 || r.header.Get("Location") == "" {
		t.Fatalf("create = %d %s", r.status, r.body)
	}
	var a map[string]any
	r.json(t, &a)
	id := a["id"].(string)
	if a["status"] != "published" || a["version"].(float64) != 1 {
		t.Errorf("created = %v; want status published, version 1", a)
	}
	var res struct{ Hits []struct{ ID string } }
	e.get("/api/v1/search?q="+url.QueryEscape("镁合金骨钉"), "").json(t, &res)
	if len(res.Hits) == 0 || res.Hits[0].ID != id {
		t.Fatalf("search right after the write = %v; want %s first", res.Hits, id)
	}
	// PATCH with a merge patch; the version moves on.
	r = e.send("PATCH", "/api/v1/achievements/"+id, "organizer", `{"summary":"十二个月降解","price":{"negotiable":true}}`)
	r.json(t, &a)
	if r.status != 200 || a["summary"] != "十二个月降解" || a["version"].(float64) != 2 || a["title"] != "可降解镁合金骨钉" {
		t.Fatalf("patch = %d %s", r.status, r.body)
	}
	// A stale version is refused.
	r = e.send("PATCH", "/api/v1/achievements/"+id, "organizer", `{"summary":"x","version":1}`)
	if r.status != 409 {
		t.Fatalf("stale patch = %d %s; want 409", r.status, r.body)
	}
	// PUT must not move the record to another id.
	r = e.send("PUT", "/api/v1/achievements/"+id, "organizer", strings.Replace(validAchievement, `{`, `{"id":"other",`, 1))
	if r.status != 400 {
		t.Fatalf("put with another id = %d %s; want 400", r.status, r.body)
	}
	// Delete, then neither GET nor search finds it.
	if r = e.do("DELETE", "/api/v1/achievements/"+id, e.keys["organizer"], "", nil); r.status != 204 {
		t.Fatalf("delete = %d %s", r.status, r.body)
	}
	if r = e.get("/api/v1/achievements/"+id, "organizer"); r.status != 404 {
		t.Fatalf("get after delete = %d", r.status)
	}
	e.get("/api/v1/search?q="+url.QueryEscape("镁合金骨钉"), "").json(t, &res)
	for _, h := range res.Hits {
		if h.ID == id {
			t.Fatalf("deleted record still a search hit")
		}
	}
}

func TestInstitutionDrafts(t *testing.T) {
	e := newEnv(t)
	body := strings.Replace(validAchievement, "东岚骨科医院", "东岚医科大学附属第一医院", 1)
	r := e.send("POST", "/api/v1/achievements", "inst", body)
	var a map[string]any
	r.json(t, &a)
	if r.status != 201 || a["status"] != "draft" {
		t.Fatalf("institution create = %d %s; want 201 draft", r.status, r.body)
	}
	id := a["id"].(string)
	for who, want := range map[string]int{"inst": 200, "organizer": 200, "": 404, "ent1": 404} {
		if r := e.get("/api/v1/achievements/"+id, who); r.status != want {
			t.Errorf("%q GET draft = %d; want %d", who, r.status, want)
		}
	}
	if r := e.send("PATCH", "/api/v1/achievements/"+id, "inst", `{"status":"published"}`); r.status != 403 {
		t.Errorf("institution publishes = %d %s; want 403", r.status, r.body)
	}
	if r := e.send("PATCH", "/api/v1/achievements/"+id, "organizer", `{"status":"published"}`); r.status != 200 {
		t.Errorf("organizer publishes = %d %s; want 200", r.status, r.body)
	}
	if r := e.get("/api/v1/achievements/"+id, ""); r.status != 200 {
		t.Errorf("anonymous GET published = %d; want 200", r.status)
	}
}

func TestSearchPaging(t *testing.T) {
	e := newEnv(t)
	q := url.QueryEscape("检测")
	seen := map[string]bool{}
	var total uint64
	cursor := ""
	pages := 0
	for {
		var res struct {
			Total      uint64
			Hits       []struct{ Type, ID string }
			NextCursor string `json:"next_cursor"`
		}
		r := e.get("/api/v1/search?limit=7&q="+q+"&cursor="+cursor, "")
		r.json(t, &res)
		if r.status != 200 {
			t.Fatalf("page %d = %d %s", pages, r.status, r.body)
		}
		total = res.Total
		for _, h := range res.Hits {
			k := h.Type + "/" + h.ID
			if seen[k] {
				t.Fatalf("hit %s on two pages", k)
			}
			seen[k] = true
		}
		pages++
		if res.NextCursor == "" || pages > 100 {
			break
		}
		cursor = url.QueryEscape(res.NextCursor)
	}
	if uint64(len(seen)) != total || total < 20 {
		t.Fatalf("paged through %d hits of %d in %d pages; want all (and ≥ 20)", len(seen), total, pages)
	}
	// A cursor belongs to its query.
	var res struct {
		NextCursor string `json:"next_cursor"`
	}
	e.get("/api/v1/search?limit=2&q="+q, "").json(t, &res)
	if r := e.get("/api/v1/search?q=other&cursor="+url.QueryEscape(res.NextCursor), ""); r.status != 400 {
		t.Errorf("cursor of another query = %d; want 400", r.status)
	}
}

func TestImport(t *testing.T) {
	e := newEnv(t)
	jsonl := `{"type":"team","id":"team-x","name":"新材料课题组","institution":"华屿生物材料研究所","expertise":"可降解金属"}
{"type":"team","name":"","institution":"华屿生物材料研究所","expertise":"x"}
`
	r := e.do("POST", "/api/v1/import?format=jsonl", e.keys["organizer"], "", strings.NewReader(jsonl))
	var rep struct {
		Error  struct{ Code, Field, Message string }
		Report struct {
			Rejected int
			Written  bool
			Rows     []struct {
				Line   int
				Action string
			}
		}
	}
	r.json(t, &rep)
	if r.status != 422 || rep.Error.Field != "upload.jsonl:2" || rep.Report.Rejected != 1 || rep.Report.Written {
		t.Fatalf("all-or-nothing import = %d %s", r.status, r.body)
	}
	if r := e.get("/api/v1/teams/team-x", ""); r.status != 404 {
		t.Fatalf("a rejected import wrote team-x")
	}
	r = e.do("POST", "/api/v1/import?format=jsonl&skip_invalid=true", e.keys["organizer"], "", strings.NewReader(jsonl))
	if r.status != 200 {
		t.Fatalf("skip-invalid import = %d %s", r.status, r.body)
	}
	if r := e.get("/api/v1/teams/team-x", ""); r.status != 200 {
		t.Fatalf("skip-invalid import did not write team-x")
	}
	csv := "type,name,institution,expertise,specialties\nteam,影像算法组,云岫理工大学生物医学工程学院,低剂量CT重建,医学影像;肿瘤\n"
	r = e.do("POST", "/api/v1/import", e.keys["organizer"], "text/csv", strings.NewReader(csv))
	var ok struct {
		Created int
		Rows    []struct{ ID string }
	}
	r.json(t, &ok)
	if r.status != 200 || ok.Created != 1 {
		t.Fatalf("csv import = %d %s", r.status, r.body)
	}
	var team struct{ Specialties []string }
	e.get("/api/v1/teams/"+ok.Rows[0].ID, "").json(t, &team)
	if fmt.Sprint(team.Specialties) != "[医学影像 肿瘤]" {
		t.Errorf("csv list column = %v; want [医学影像 肿瘤]", team.Specialties)
	}
}

func TestKeysAndHealth(t *testing.T) {
	e := newEnv(t)
	r := e.send("POST", "/api/v1/keys", "admin", `{"role":"enterprise","enterprise":"ent-002","name":"ops"}`)
	var k struct{ Key, ID string }
	r.json(t, &k)
	if r.status != 201 || !strings.HasPrefix(k.Key, "mm_") {
		t.Fatalf("create key = %d %s", r.status, r.body)
	}
	if r := e.do("GET", "/api/v1/demands?limit=1", k.Key, "", nil); r.status != 200 {
		t.Fatalf("new key = %d; want 200", r.status)
	}
	if r := e.get("/healthz", ""); r.status != 200 {
		t.Fatalf("healthz = %d; want 200", r.status)
	}
	// A server without an index is not ready.
	s := api.New(api.Config{Store: e.store})
	hs := httptest.NewServer(s.Handler())
	defer hs.Close()
	for _, path := range []string{"/healthz", "/api/v1/search?q=x", "/api/v1/achievements"} {
		res, err := http.Get(hs.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 503 {
			t.Errorf("%s before ready = %d; want 503", path, res.StatusCode)
		}
	}
}

func TestInternalErrorsHidden(t *testing.T) {
	e := newEnv(t)
	e.store.Close() // every store call now fails with an I/O error
	r := e.get("/api/v1/achievements/ach-0001", "")
	var ae apiError
	r.json(t, &ae)
	if r.status != 500 || ae.Error.Code != "internal" || ae.Error.Message != "Internal error." {
		t.Fatalf("store failure = %d %s; want 500 with a generic message", r.status, r.body)
	}
}

// matchResult is the part of a match response the tests read.
type matchResult struct {
	Target   string `json:"target"`
	Weights  int64  `json:"weights_version"`
	Semantic int64  `json:"semantic_version"`
	Matches  []struct {
		Type        string
		ID          string
		Score       float64
		Via         *medmatch.Ref
		Explanation struct {
			Bias     float64
			Features []struct {
				Name                        string
				Value, Weight, Contribution float64
			}
			Terms []string
		}
	}
}

func TestMatchAPI(t *testing.T) {
	e := newEnv(t)
	var res matchResult
	r := e.get("/api/v1/demands/dem-001/matches?limit=5", "")
	if r.status != 200 {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	r.json(t, &res)
	if len(res.Matches) != 5 || res.Target != "achievement" || res.Semantic != 1 {
		t.Fatalf("got %d %s matches (semantic v%d); want 5 achievements with the semantic model", len(res.Matches), res.Target, res.Semantic)
	}
	top := map[string]bool{}
	for _, m := range res.Matches {
		top[m.ID] = true
		sum := m.Explanation.Bias
		for _, f := range m.Explanation.Features {
			sum += f.Contribution
		}
		if d := sum - m.Score; d > 1e-6 || d < -1e-6 {
			t.Fatalf("%s: bias + contributions = %v, score %v", m.ID, sum, m.Score)
		}
	}
	if !top["ach-0001"] {
		t.Errorf("the DBS system ach-0001 is not among the DBS demand's top 5: %v", top)
	}
	// Needs to teams; free text; interested enterprises for the owner.
	for _, c := range []struct {
		method, path, who, body, target string
	}{
		{"GET", "/api/v1/needs/need-001/matches?target=teams&limit=3", "", "", "team"},
		{"POST", "/api/v1/match", "", `{"text":"帕金森病 脑深部电刺激 闭环","limit":3}`, "achievement"},
		{"GET", "/api/v1/achievements/ach-0001/matches?limit=3", "inst", "", "enterprise"},
		{"GET", "/api/v1/achievements/ach-0001/matches?limit=3", "organizer", "", "enterprise"},
	} {
		var r resp
		if c.method == "GET" {
			r = e.get(c.path, c.who)
		} else {
			r = e.send(c.method, c.path, c.who, c.body)
		}
		if r.status != 200 {
			t.Fatalf("%s %s: status %d: %s", c.method, c.path, r.status, r.body)
		}
		var got matchResult
		r.json(t, &got)
		if len(got.Matches) == 0 || got.Matches[0].Type != c.target {
			t.Fatalf("%s %s: %s", c.method, c.path, r.body)
		}
	}
}

func TestFeedbackTrainRollback(t *testing.T) {
	e := newEnv(t)
	fb := `{"source":{"type":"demand","id":"dem-002"},"target":{"type":"achievement","id":"ach-0001"},"action":"interest","note":"想约见"}`
	r := e.send("POST", "/api/v1/feedback", "ent1", fb) // its own private demand
	if r.status != 201 {
		t.Fatalf("feedback: %d %s", r.status, r.body)
	}
	var f medmatch.Feedback
	r.json(t, &f)
	if f.ID == "" || f.Principal != "ent:ent-001" || f.At.IsZero() {
		t.Fatalf("feedback stored as %+v", f)
	}
	labels := `{"labels":[{"query":"dem-001","candidate":"ach-0001","grade":3},{"query":"dem-001","candidate":"ach-0137","grade":0}]}`
	for want := int64(1); want <= 2; want++ {
		r = e.send("POST", "/api/v1/admin/train", "organizer", labels)
		if r.status != 200 {
			t.Fatalf("train: %d %s", r.status, r.body)
		}
		var rep struct {
			WeightsVersion int64 `json:"weights_version"`
			Feedback       int
			Labels         int
		}
		r.json(t, &rep)
		if rep.WeightsVersion != want || rep.Feedback != 1 || rep.Labels != 2 {
			t.Fatalf("train report %s; want weights v%d from 2 labels and 1 feedback", r.body, want)
		}
	}
	var res matchResult
	e.get("/api/v1/demands/dem-001/matches", "").json(t, &res)
	if res.Weights != 2 {
		t.Fatalf("matches use weights v%d; want v2", res.Weights)
	}
	if r := e.send("POST", "/api/v1/admin/models/weights/1/activate", "organizer", ""); r.status != 200 {
		t.Fatalf("activate: %d %s", r.status, r.body)
	}
	e.get("/api/v1/demands/dem-001/matches", "").json(t, &res)
	if res.Weights != 1 {
		t.Fatalf("after rollback matches use weights v%d; want v1", res.Weights)
	}
	var models map[string][]medmatch.Artifact
	e.get("/api/v1/admin/models", "organizer").json(t, &models)
	if w := models["weights"]; len(w) != 2 || w[0].Version != 2 || w[0].Active || !w[1].Active || len(models["lsa"]) != 1 {
		t.Fatalf("models %+v; want weights v2, v1 (active) and one semantic model", models)
	}
}

func TestEventsAPI(t *testing.T) {
	e := newEnv(t)
	body := `{"title":"医疗器械转化项目推介会","theme":"神经调控","date":"2026-12-10","projects":5,"status":"published",
		"slots":[{"start":"14:00","minutes":20,"tables":4},{"start":"14:25","minutes":20,"tables":4}],
		"invited":[{"enterprise_id":"ent-001"},{"enterprise_id":"ent-002"}]}`
	for _, c := range []struct {
		who, body string
		status    int
		field     string
	}{
		{"ent1", body, 403, ""},
		{"", body, 401, ""},
		{"organizer", strings.Replace(body, `"2026-12-10"`, `"tomorrow"`, 1), 400, "date"},
		{"organizer", strings.Replace(body, `"ent-002"`, `"ent-999"`, 1), 400, "invited[1].enterprise_id"},
		{"organizer", strings.Replace(body, `"minutes":20,"tables":4},{`, `"minutes":"20","tables":4},{`, 1), 400, "slots.minutes"},
	} {
		r := e.send("POST", "/api/v1/events", c.who, c.body)
		var ae apiError
		if r.status != c.status {
			t.Fatalf("POST events as %q: %d %s; want %d", c.who, r.status, r.body, c.status)
		}
		if c.field != "" {
			r.json(t, &ae)
			if ae.Error.Field != c.field {
				t.Fatalf("POST events: field %q; want %q (%s)", ae.Error.Field, c.field, r.body)
			}
		}
	}
	r := e.send("POST", "/api/v1/events", "organizer", body)
	if r.status != 201 {
		t.Fatalf("create event: %d %s", r.status, r.body)
	}
	var ev medmatch.Event
	r.json(t, &ev)
	// ent-001 reads it, registers and asks for a meeting with ach-0001.
	var mine medmatch.Event
	e.get("/api/v1/events/"+ev.ID, "ent1").json(t, &mine)
	inv := mine.Invitation("ent-001")
	inv.Registered = true
	inv.Requests = []medmatch.MeetingRequest{{AchievementID: "ach-0001"}}
	if r := e.send("PUT", "/api/v1/events/"+ev.ID, "ent1", mine); r.status != 200 {
		t.Fatalf("enterprise registers: %d %s", r.status, r.body)
	}
	// A stale version conflicts; ent-002 cannot change ent-001's invitation.
	if r := e.send("PUT", "/api/v1/events/"+ev.ID, "ent1", mine); r.status != 409 {
		t.Fatalf("stale PUT: %d %s; want 409", r.status, r.body)
	}
	var theirs medmatch.Event
	e.get("/api/v1/events/"+ev.ID, "ent2").json(t, &theirs)
	theirs.Invitation("ent-001").Quota = 9
	if r := e.send("PUT", "/api/v1/events/"+ev.ID, "ent2", theirs); r.status != 403 {
		t.Fatalf("ent-002 edits ent-001's invitation: %d %s; want 403", r.status, r.body)
	}
	var list struct {
		Items []medmatch.Event
		Total int
	}
	e.get("/api/v1/events", "ent1").json(t, &list)
	if list.Total != 1 || !list.Items[0].Invitation("ent-001").Registered {
		t.Fatalf("ent-001's events: %+v", list)
	}
	e.get("/api/v1/events", "").json(t, &list)
	if list.Total != 0 {
		t.Fatalf("anonymous sees %d events", list.Total)
	}
	if r := e.get("/api/v1/events/"+ev.ID, "reader"); r.status != 404 {
		t.Fatalf("reader reads the event: %d", r.status)
	}
	// Planning: organizers only; the plan is stored and read back.
	if r := e.get("/api/v1/events/"+ev.ID+"/plan", "organizer"); r.status != 404 {
		t.Fatalf("plan before planning: %d %s; want 404", r.status, r.body)
	}
	if r := e.send("POST", "/api/v1/events/"+ev.ID+"/plan", "ent1", ""); r.status != 403 {
		t.Fatalf("enterprise plans: %d %s; want 403", r.status, r.body)
	}
	r = e.send("POST", "/api/v1/events/"+ev.ID+"/plan", "organizer", "")
	if r.status != 200 || r.header.Get("X-Plan-Version") != "1" {
		t.Fatalf("plan: %d %s", r.status, r.body)
	}
	var plan struct {
		Selected []struct {
			AchievementID string `json:"achievement_id"`
		}
		Agenda []struct {
			EnterpriseID string `json:"enterprise_id"`
		}
		Schedule struct{ Meetings []struct{ Slot int } }
	}
	r.json(t, &plan)
	if len(plan.Selected) == 0 || len(plan.Selected) > 5 || len(plan.Agenda) != 2 {
		t.Fatalf("plan %s", r.body)
	}
	stored := e.get("/api/v1/events/"+ev.ID+"/plan", "organizer")
	if stored.status != 200 || !bytes.Equal(stored.body, bytes.TrimSpace(r.body)) && !bytes.Equal(bytes.TrimSpace(stored.body), bytes.TrimSpace(r.body)) {
		t.Fatalf("stored plan differs: %s", stored.body)
	}
	if r := e.get("/api/v1/events/"+ev.ID+"/plan?version=x", "organizer"); r.status != 400 {
		t.Fatalf("bad plan version: %d", r.status)
	}
	// Exports of the stored plan.
	x := e.get("/api/v1/events/"+ev.ID+"/export", "organizer")
	if x.status != 200 || !strings.Contains(x.header.Get("Content-Type"), "spreadsheetml") {
		t.Fatalf("xlsx export: %d %s", x.status, x.header)
	}
	book, err := roadshow.ReadXLSX(bytes.NewReader(x.body))
	if err != nil || len(book[roadshow.SheetProjects]) != len(plan.Selected)+1 {
		t.Fatalf("workbook: %v, %d project rows", err, len(book[roadshow.SheetProjects]))
	}
	x = e.get("/api/v1/events/"+ev.ID+"/export?format=csv&sheet="+url.QueryEscape(roadshow.SheetGrid), "organizer")
	if x.status != 200 || !strings.HasPrefix(string(x.body), "\ufeff时段,开始") {
		t.Fatalf("csv export: %d %.60s", x.status, x.body)
	}
	x = e.get("/api/v1/events/"+ev.ID+"/export?format=html", "organizer")
	if x.status != 200 || !strings.Contains(string(x.body), "洽谈日程") {
		t.Fatalf("html export: %d", x.status)
	}
	for q, field := range map[string]string{"format=pdf": "format", "format=html&sheet=x": "sheet", "format=csv&sheet=x": "sheet"} {
		x = e.get("/api/v1/events/"+ev.ID+"/export?"+q, "organizer")
		var ae apiError
		x.json(t, &ae)
		if x.status != 400 || ae.Error.Field != field {
			t.Fatalf("export?%s: %d %s; want 400 naming %s", q, x.status, x.body, field)
		}
	}
	if x := e.get("/api/v1/events/"+ev.ID+"/export", "ent1"); x.status != 403 {
		t.Fatalf("enterprise exports: %d", x.status)
	}
	// Agendas: an enterprise reads its own; organizers name one.
	var ag struct {
		EnterpriseID    string `json:"enterprise_id"`
		Meetings        []roadshow.PlannedMeeting
		Recommendations []roadshow.Recommendation
	}
	x = e.get("/api/v1/events/"+ev.ID+"/agenda", "ent1")
	x.json(t, &ag)
	if x.status != 200 || ag.EnterpriseID != "ent-001" {
		t.Fatalf("agenda: %d %s", x.status, x.body)
	}
	for _, m := range ag.Meetings {
		if m.EnterpriseID != "ent-001" {
			t.Fatalf("ent-001's agenda holds %+v", m)
		}
	}
	for who, want := range map[string]int{"": 404, "reader": 404} {
		if x := e.get("/api/v1/events/"+ev.ID+"/agenda", who); x.status != want {
			t.Fatalf("agenda as %q: %d; want %d", who, x.status, want)
		}
	}
	if x := e.get("/api/v1/events/"+ev.ID+"/agenda?enterprise=ent-002", "ent1"); x.status != 403 {
		t.Fatalf("ent-001 reads ent-002's agenda: %d", x.status)
	}
	if x := e.get("/api/v1/events/"+ev.ID+"/agenda", "organizer"); x.status != 400 {
		t.Fatalf("organizer agenda without enterprise: %d", x.status)
	}
	if x := e.get("/api/v1/events/"+ev.ID+"/agenda?enterprise=ent-002", "organizer"); x.status != 200 {
		t.Fatalf("organizer reads ent-002's agenda: %d %s", x.status, x.body)
	}
}
