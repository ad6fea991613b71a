package api_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/medmatch/medmatch"
	"github.com/medmatch/medmatch/api"
	"github.com/medmatch/medmatch/fixtures"
)

// webClient is a cookie-keeping HTTP client that signs in through the
// sign-in form, as a person with a browser would.
type webClient struct {
	t    *testing.T
	e    *env
	c    *http.Client
	csrf string // the token of the last page read
}

var csrfInput = regexp.MustCompile(`name="_csrf" value="([^"]*)"`)

func (e *env) browser(who string) *webClient {
	e.t.Helper()
	jar, _ := cookiejar.New(nil)
	b := &webClient{t: e.t, e: e, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	if who != "" {
		r := b.post("/signin", url.Values{"key": {e.keys[who]}})
		if r.status != http.StatusSeeOther {
			e.t.Fatalf("sign in as %s: %d %s", who, r.status, r.body)
		}
	}
	return b
}

func (b *webClient) get(path string) resp {
	b.t.Helper()
	res, err := b.c.Get(b.e.url + path)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if m := csrfInput.FindSubmatch(body); m != nil {
		b.csrf = string(m[1])
	}
	return resp{res.StatusCode, res.Header, body}
}

// post sends a form; the CSRF token of the last page read is added unless
// the form has one.
func (b *webClient) post(path string, form url.Values) resp {
	b.t.Helper()
	if _, ok := form["_csrf"]; !ok && b.csrf != "" {
		form.Set("_csrf", b.csrf)
	}
	res, err := b.c.PostForm(b.e.url+path, form)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return resp{res.StatusCode, res.Header, body}
}

func loadDemoEvents(t *testing.T, e *env) {
	t.Helper()
	evs, err := fixtures.Events()
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range evs {
		if err := e.store.PutEvent(context.Background(), medmatch.System, ev); err != nil {
			t.Fatal(err)
		}
	}
}

// TestPages checks every page's status and a piece of what it must (or
// must not) show, for each kind of visitor.
func TestPages(t *testing.T) {
	e := newEnv(t)
	loadDemoEvents(t, e)
	ctx := context.Background()
	// A private demand of ent-002, which ent-001 must never see.
	priv, err := e.store.Create(ctx, medmatch.System, &medmatch.Demand{EnterpriseID: "ent-002", Title: "秘密需求：磁控胶囊内镜定位算法",
		Description: "寻找磁控胶囊内镜的定位算法与实时姿态估计技术。", Visibility: medmatch.DemandPrivate, Status: medmatch.DemandOpen})
	if err != nil {
		t.Fatal(err)
	}
	// The organizer plans the demo event so the plan views have content.
	org := e.browser("organizer")
	org.get("/events/evt-demo-device")
	if r := org.post("/events/evt-demo-device/plan", url.Values{}); r.status != http.StatusSeeOther {
		t.Fatalf("plan: %d %s", r.status, r.body)
	}
	for _, c := range []struct {
		who, path string
		status    int
		want      []string
		not       []string
	}{
		{"", "/", 200, []string{`<form class="searchbar"`, "科技成果", "筛选条件"}, nil},
		{"", "/?q=脑起搏器", 200, []string{"<mark>脑起搏器</mark>", `data-facet="specialty"`, "/achievements/ach-0001"}, nil},
		{"", "/?q=心梗", 200, []string{"<mark>心肌梗死</mark>"}, nil},
		{"", "/?q=脑起搏器&specialty=神经", 200, []string{`class="active" aria-pressed="true"`, "已选"}, nil},
		{"", "/?q=脑起搏器&sort=newest", 200, []string{`<option value="newest" selected>`}, nil},
		{"", "/?q=qqqzzzxxyy", 200, []string{"没有找到相关结果"}, nil},
		{"", "/?type=need&q=术后", 200, []string{"/needs/"}, nil},
		{"", "/?bogus=1", 400, []string{"请求有误", "bogus"}, nil},
		{"", "/?limit=1000", 400, []string{"limit"}, nil},
		{"", "/achievements/ach-0001", 200, []string{"成熟度", "联系技术经纪人"}, []string{"可能感兴趣的企业", "审核与估值"}},
		{"organizer", "/achievements/ach-0001", 200, []string{"可能感兴趣的企业", `class="bar w`, "审核与估值"}, nil},
		{"inst", "/achievements/ach-0001", 200, []string{"可能感兴趣的企业"}, nil},
		{"ent1", "/achievements/ach-0001", 200, nil, []string{"可能感兴趣的企业"}},
		{"", "/achievements/ach-nope", 404, []string{"未找到"}, nil},
		{"", "/needs/need-001", 200, []string{"相关成果", "相关团队", "相关企业"}, nil},
		{"", "/teams/team-01", 200, []string{"研究专长"}, nil},
		{"", "/enterprises/ent-001", 200, []string{"技术需求"}, nil},
		{"ent1", "/demands/dem-001", 200, []string{"为您推荐的成果", `value="interest"`}, nil},
		{"ent2", "/demands/dem-001", 200, nil, []string{"为您推荐的成果"}},
		{"ent1", "/demands/" + priv.(*medmatch.Demand).ID, 404, nil, []string{"磁控胶囊"}},
		{"ent1", "/me", 200, []string{"我的技术需求", "dem-001", "evt-demo-device"}, []string{"磁控胶囊"}},
		{"ent1", "/?type=demand&q=磁控胶囊", 200, nil, []string{"秘密需求"}},
		{"ent2", "/?type=demand&q=磁控胶囊", 200, []string{"秘密需求"}, nil},
		{"", "/me", 303, nil, nil},
		{"", "/events", 303, nil, nil},
		{"ent1", "/events", 200, []string{"evt-demo-device"}, []string{"新建推介会"}},
		{"organizer", "/events", 200, []string{"新建推介会", "evt-demo-device"}, nil},
		{"ent1", "/events/new", 403, []string{"无权访问"}, nil},
		{"organizer", "/events/new", 200, []string{`name="slots"`, `name="invite"`, `for="title"`}, nil},
		{"organizer", "/events/evt-demo-device", 200, []string{"推介项目", "洽谈日程", "下载 Excel 工作簿", "各企业推荐与日程", "差距"}, nil},
		{"organizer", "/events/evt-demo-device/edit", 200, []string{`name="version"`}, nil},
		{"ent1", "/events/evt-demo-device", 200, []string{"可洽谈时段", "为您推荐的推介项目", `value="request"`}, []string{"下载 Excel 工作簿"}},
		{"ent2", "/events/evt-demo-device", 404, nil, nil},
		{"", "/signin", 200, []string{`name="key"`}, []string{"演示账号"}},
		{"", "/static/app.css", 200, []string{".bar"}, nil},
		{"", "/static/app.js", 200, []string{"combobox"}, nil},
		{"", "/nowhere", 404, []string{"未找到"}, nil},
	} {
		b := e.browser(c.who)
		r := b.get(c.path)
		if r.status != c.status {
			t.Errorf("%s as %q: status %d; want %d\n%.400s", c.path, c.who, r.status, c.status, r.body)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(string(r.body), w) {
				t.Errorf("%s as %q: no %q in the page", c.path, c.who, w)
			}
		}
		for _, w := range c.not {
			if strings.Contains(string(r.body), w) {
				t.Errorf("%s as %q: %q is in the page; it must not be", c.path, c.who, w)
			}
		}
		if c.status == 303 && !strings.HasPrefix(r.header.Get("Location"), "/signin?next=") {
			t.Errorf("%s as %q: redirected to %q; want the sign-in page", c.path, c.who, r.header.Get("Location"))
		}
		if c.status != 303 && !strings.HasPrefix(c.path, "/static/") {
			if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
				t.Errorf("%s: Content-Type %q; want text/html", c.path, ct)
			}
		}
	}
}

// TestPageEscaping: a record's text is shown as text, never as markup.
func TestPageEscaping(t *testing.T) {
	e := newEnv(t)
	r := e.send("POST", "/api/v1/achievements", "organizer", `{"title":"<script>alert(1)</script>可吸收冠脉支架","description":"<img src=x onerror=alert(2)>药物洗脱可吸收冠脉支架","institution":"东岚<b>医院</b>","specialty":"心血管","fields":["医疗器械"],"maturity":"preclinical","broker":"\"><script>alert(3)</script>"}`)
	if r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	var a medmatch.Achievement
	r.json(t, &a)
	b := e.browser("organizer")
	for _, path := range []string{"/achievements/" + a.ID, "/?q=可吸收冠脉支架"} {
		page := string(b.get(path).body)
		if !strings.Contains(page, "可吸收冠脉支架") {
			t.Fatalf("%s: the record is not on the page", path)
		}
		for _, bad := range []string{"<script>alert", "<img src=x", "<b>医院</b>", `"><script>`} {
			if strings.Contains(page, bad) {
				t.Errorf("%s: %q is on the page unescaped", path, bad)
			}
		}
		if !strings.Contains(page, "&lt;script&gt;") {
			t.Errorf("%s: the title's <script> is not shown escaped", path)
		}
	}
}

// TestPageForms covers the forms: sign-in errors, CSRF, feedback, the
// event form with its errors, project actions, requests and the
// enterprise's invitation.
func TestPageForms(t *testing.T) {
	e := newEnv(t)
	loadDemoEvents(t, e)
	ctx := context.Background()

	anon := e.browser("")
	if r := anon.post("/signin", url.Values{"key": {"not-a-key"}}); r.status != 401 || !strings.Contains(string(r.body), "密钥无效") {
		t.Errorf("bad key: %d %.300s", r.status, r.body)
	}
	if r := anon.post("/signin", url.Values{"demo": {"organizer"}}); r.status != 403 {
		t.Errorf("demo sign-in on a server without demo: %d; want 403", r.status)
	}

	ent := e.browser("ent1")
	ent.get("/demands/dem-001")
	form := url.Values{"source_type": {"demand"}, "source_id": {"dem-001"}, "target_type": {"achievement"}, "target_id": {"ach-0001"}, "action": {"interest"}, "back": {"/demands/dem-001"}}
	noToken := url.Values{"_csrf": {""}}
	for k, v := range form {
		noToken[k] = v
	}
	if r := ent.post("/feedback", noToken); r.status != 403 {
		t.Errorf("feedback without a CSRF token: %d; want 403", r.status)
	}
	if r := ent.post("/feedback", form); r.status != 303 || !strings.Contains(r.header.Get("Location"), "notice=") {
		t.Fatalf("feedback: %d %s", r.status, r.header.Get("Location"))
	}
	found := false
	_ = e.store.Feedback(ctx, medmatch.System, func(f medmatch.Feedback) error {
		found = found || (f.Source.ID == "dem-001" && f.Target.ID == "ach-0001" && f.Action == medmatch.FeedbackInterest && f.Principal == "ent:ent-001")
		return nil
	})
	if !found {
		t.Fatal("the interest was not stored")
	}
	if page := string(ent.get("/demands/dem-001").body); !strings.Contains(page, "已标记感兴趣") {
		t.Error("the demand page does not show the recorded interest")
	}
	bad := url.Values{"source_type": {"demand"}, "source_id": {"dem-001"}, "target_type": {"achievement"}, "target_id": {"ach-0001"}, "action": {"love"}}
	if r := ent.post("/feedback", bad); r.status != 303 || !strings.Contains(r.header.Get("Location"), "problem=action") {
		t.Errorf("bad action: %d %s; want a problem naming action", r.status, r.header.Get("Location"))
	}

	// The event form: a bad slot line is named; a good form creates the event.
	org := e.browser("organizer")
	org.get("/events/new")
	ev := url.Values{"title": {"测试推介会"}, "theme": {"神经调控与康复器械"}, "date": {"2026-12-20"}, "venue": {"三楼"}, "status": {"published"},
		"projects": {"4"}, "specialty_cap": {"0"}, "institution_cap": {"0"}, "slots": {"14:00 20 3\n14:25 20 3"},
		"invite": {"ent-001", "ent-003", "ent-005"}, "quota_ent-001": {"2"}, "min_maturity": {""}, "w_maturity": {"0.5"}, "w_team": {"0.5"}}
	badSlots := url.Values{}
	for k, v := range ev {
		badSlots[k] = v
	}
	badSlots.Set("slots", "14:00 20 3\n14:25 二十 3")
	if r := org.post("/events/new", badSlots); r.status != 400 || !strings.Contains(string(r.body), "slots 第 2 行") {
		t.Errorf("bad slots: %d %s", r.status, regexp.MustCompile(`<main[\s\S]*?</ul>`).Find(r.body))
	}
	badDate := url.Values{}
	for k, v := range ev {
		badDate[k] = v
	}
	badDate.Set("date", "2026-13-40")
	if r := org.post("/events/new", badDate); r.status != 400 || !strings.Contains(string(r.body), "date：") {
		t.Errorf("bad date: %d %.500s", r.status, r.body)
	}
	r := org.post("/events/new", ev)
	if r.status != 303 {
		t.Fatalf("create event: %d %.500s", r.status, r.body)
	}
	id := strings.TrimPrefix(strings.Split(r.header.Get("Location"), "?")[0], "/events/")
	stored, err := e.store.Event(ctx, medmatch.System, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(stored.Slots) != 2 || len(stored.Invited) != 3 || stored.Invitation("ent-001").Quota != 2 || stored.Rubric.Weights["team"] != 0.5 {
		t.Fatalf("stored event: %+v", stored)
	}
	org.get("/events/" + id)
	if r := org.post("/events/"+id+"/plan", url.Values{}); r.status != 303 || !strings.Contains(r.header.Get("Location"), "notice=") {
		t.Fatalf("plan: %d %s", r.status, r.header.Get("Location"))
	}
	page := string(org.get("/events/" + id).body)
	first := regexp.MustCompile(`<tr data-id="([^"]+)">`).FindAllStringSubmatch(page, -1)
	if len(first) < 2 {
		t.Fatalf("the plan shows %d projects", len(first))
	}
	// Move the second project up: the order changes, the plan is not redone.
	if r := org.post("/events/"+id+"/projects", url.Values{"version": {itoa(stored.Version)}, "achievement_id": {first[1][1]}, "action": {"up"}}); r.status != 303 || strings.Contains(r.header.Get("Location"), "problem=") {
		t.Fatalf("move up: %d %s", r.status, r.header.Get("Location"))
	}
	page = string(org.get("/events/" + id).body)
	now := regexp.MustCompile(`<tr data-id="([^"]+)">`).FindAllStringSubmatch(page, -1)
	if now[0][1] != first[1][1] || now[1][1] != first[0][1] {
		t.Errorf("after moving %s up the order is %s, %s", first[1][1], now[0][1], now[1][1])
	}
	// A stale form (old version) is refused with a problem, not applied.
	if r := org.post("/events/"+id+"/projects", url.Values{"version": {itoa(stored.Version)}, "achievement_id": {first[0][1]}, "action": {"exclude"}}); !strings.Contains(r.header.Get("Location"), "problem=") {
		t.Errorf("stale version: %s; want a problem", r.header.Get("Location"))
	}
	cur, _ := e.store.Event(ctx, medmatch.System, id)
	if r := org.post("/events/"+id+"/projects", url.Values{"version": {itoa(cur.Version)}, "achievement_id": {first[0][1]}, "action": {"exclude"}}); strings.Contains(r.header.Get("Location"), "problem=") {
		t.Fatalf("exclude: %s", r.header.Get("Location"))
	}
	page = string(org.get("/events/" + id).body)
	if strings.Contains(page, `<tr data-id="`+first[0][1]+`">`) {
		t.Errorf("excluded project %s is still presented", first[0][1])
	}

	// The enterprise registers, narrows its slots and requests a meeting;
	// the organizer accepts it.
	ent.get("/events/" + id)
	cur, _ = e.store.Event(ctx, medmatch.System, id)
	for _, f := range []url.Values{
		{"action": {"register"}},
		{"action": {"availability"}, "slot": {"1"}},
	} {
		f.Set("version", itoa(cur.Version))
		if r := ent.post("/events/"+id+"/invitation", f); strings.Contains(r.header.Get("Location"), "problem=") || r.status != 303 {
			t.Fatalf("invitation %v: %d %s", f, r.status, r.header.Get("Location"))
		}
		cur, _ = e.store.Event(ctx, medmatch.System, id)
	}
	if r := ent.post("/events/"+id+"/invitation", url.Values{"version": {itoa(cur.Version)}, "action": {"availability"}, "slot": {"7"}}); !strings.Contains(r.header.Get("Location"), "problem=slot") {
		t.Errorf("a slot the event has not: %s; want a problem naming slot", r.header.Get("Location"))
	}
	proj := now[0][1] // still presented (now[1] was excluded)
	if r := ent.post("/events/"+id+"/invitation", url.Values{"version": {itoa(cur.Version)}, "action": {"request"}, "achievement_id": {proj}}); strings.Contains(r.header.Get("Location"), "problem=") {
		t.Fatalf("request: %s", r.header.Get("Location"))
	}
	cur, _ = e.store.Event(ctx, medmatch.System, id)
	inv := cur.Invitation("ent-001")
	if !inv.Registered || len(inv.Available) != 1 || inv.Available[0] != 1 || len(inv.Requests) != 1 || inv.Requests[0].Status != medmatch.RequestPending {
		t.Fatalf("invitation after the forms: %+v", inv)
	}
	// An enterprise cannot accept its own request.
	if r := ent.post("/events/"+id+"/requests", url.Values{"version": {itoa(cur.Version)}, "enterprise_id": {"ent-001"}, "achievement_id": {proj}, "status": {"accepted"}}); r.status != 403 {
		t.Errorf("enterprise accepting: %d; want 403", r.status)
	}
	org.get("/events/" + id)
	if r := org.post("/events/"+id+"/requests", url.Values{"version": {itoa(cur.Version)}, "enterprise_id": {"ent-001"}, "achievement_id": {proj}, "status": {"accepted"}}); strings.Contains(r.header.Get("Location"), "problem=") {
		t.Fatalf("accept: %s", r.header.Get("Location"))
	}
	org.post("/events/"+id+"/plan", url.Values{})
	page = string(ent.get("/events/" + id).body)
	if !strings.Contains(page, "我的洽谈日程") || !strings.Contains(page, "您申请的") {
		t.Errorf("the enterprise's agenda does not show the accepted meeting: %s", regexp.MustCompile(`<main[\s\S]*</main>`).FindString(page))
	}
}

func itoa(n int64) string       { return strconv.FormatInt(n, 10) }
func urlEscape(s string) string { return url.QueryEscape(s) }

// TestSessions: a cookie is honoured only as signed by this server's
// secret; demo accounts exist only on a demo server.
func TestSessions(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	demo := newEnv(t, func(c *api.Config) { c.Demo, c.SessionSecret = true, secret })
	b := demo.browser("")
	page := string(b.get("/signin").body)
	for _, want := range []string{"演示账号", `value="organizer"`, `value="ent:`} {
		if !strings.Contains(page, want) {
			t.Errorf("demo sign-in page: no %q", want)
		}
	}
	if r := b.post("/signin", url.Values{"demo": {"ent:ent-001"}}); r.status != 303 || r.header.Get("Location") != "/me" {
		t.Fatalf("demo sign-in: %d %s", r.status, r.header.Get("Location"))
	}
	if r := b.get("/me"); r.status != 200 || !strings.Contains(string(r.body), "我的技术需求") {
		t.Fatalf("/me after demo sign-in: %d", r.status)
	}
	if r := b.post("/signin", url.Values{"demo": {"ent:ent-999"}}); r.status != 400 {
		t.Errorf("demo sign-in as an unknown enterprise: %d; want 400", r.status)
	}
	u, _ := url.Parse(demo.url)
	var cookie *http.Cookie
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == "medmatch_session" {
			cookie = c
		}
	}
	if cookie == nil {
		t.Fatal("no session cookie")
	}
	// The same cookie: tampered with, on a server with another secret, and
	// (a demo session) on a server with the same secret but no demo.
	other := newEnv(t, func(c *api.Config) { c.SessionSecret = []byte("another secret, just as long ....") })
	same := newEnv(t, func(c *api.Config) { c.SessionSecret = secret })
	tampered := strings.Replace(cookie.Value, cookie.Value[:4], "eyJy", 1)
	for _, c := range []struct {
		name, url, value string
	}{{"tampered", demo.url, tampered + "x"}, {"other secret", other.url, cookie.Value}, {"no demo", same.url, cookie.Value}} {
		req, _ := http.NewRequest("GET", c.url+"/me", nil)
		req.AddCookie(&http.Cookie{Name: "medmatch_session", Value: c.value})
		res, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 303 || !strings.HasPrefix(res.Header.Get("Location"), "/signin") {
			t.Errorf("%s cookie: %d %s; want a redirect to sign in", c.name, res.StatusCode, res.Header.Get("Location"))
		}
	}
	// The JSON API takes the cookie for reads, and for writes only with
	// the CSRF token.
	b.get("/me")
	req, _ := http.NewRequest("POST", demo.url+"/api/v1/feedback", strings.NewReader(`{"source":{"type":"demand","id":"dem-001"},"target":{"type":"achievement","id":"ach-0001"},"action":"interest"}`))
	req.Header.Set("Content-Type", "application/json")
	res, err := b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 403 {
		t.Errorf("API write with the cookie and no token: %d; want 403", res.StatusCode)
	}
	req, _ = http.NewRequest("POST", demo.url+"/api/v1/feedback", strings.NewReader(`{"source":{"type":"demand","id":"dem-001"},"target":{"type":"achievement","id":"ach-0001"},"action":"interest"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", b.csrf)
	if res, err = b.c.Do(req); err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 201 {
		t.Errorf("API write with the cookie and the token: %d; want 201", res.StatusCode)
	}
}

// TestMetrics: /metrics counts matches and reports the index lag.
func TestMetrics(t *testing.T) {
	e := newEnv(t)
	count := func() int {
		r := e.get("/metrics", "")
		if r.status != 200 {
			t.Fatalf("/metrics: %d", r.status)
		}
		m := regexp.MustCompile(`(?m)^medmatch_match_uncached_total (\d+)$`).FindSubmatch(r.body)
		if m == nil || !strings.Contains(string(r.body), "medmatch_index_lag ") {
			t.Fatalf("/metrics body:\n%s", r.body)
		}
		n, _ := strconv.Atoi(string(m[1]))
		return n
	}
	before := count()
	if r := e.get("/api/v1/demands/dem-001/matches?limit=3", "organizer"); r.status != 200 {
		t.Fatalf("match: %d", r.status)
	}
	if after := count(); after != before+1 {
		t.Errorf("uncached matches %d → %d; want one more (the embedded store has no shared cache)", before, after)
	}
}

// TestImportXLSX: the messy spreadsheet of fixtures/import through the
// API: a dry run names the bad rows with their columns and writes
// nothing; with skip_invalid the good rows are stored.
func TestImportXLSX(t *testing.T) {
	e := newEnv(t)
	data, err := os.ReadFile("../fixtures/import/messy-achievements.xlsx")
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Report struct {
			Created, Rejected int
			Written           bool
			Rows              []struct {
				Line           int
				Action, Column string
			}
		}
		Created, Rejected int
		Written           bool
	}
	r := e.do("POST", "/api/v1/import?format=xlsx&type=achievement&dry_run=true", e.keys["organizer"], "", bytes.NewReader(data))
	r.json(t, &rep)
	created, rejected := rep.Created+rep.Report.Created, rep.Rejected+rep.Report.Rejected
	if created != 5 || rejected != 3 || rep.Written || rep.Report.Written {
		t.Fatalf("dry run: %d %s", r.status, r.body)
	}
	if !strings.Contains(string(r.body), `"column": "F 研发阶段"`) && !strings.Contains(string(r.body), `"column":"F 研发阶段"`) {
		t.Errorf("dry run report does not name column F 研发阶段: %s", r.body)
	}
	r = e.do("POST", "/api/v1/import?format=xlsx&type=achievement&mapping=notjson", e.keys["organizer"], "", bytes.NewReader(data))
	var ae apiError
	r.json(t, &ae)
	if r.status != 400 || ae.Error.Field != "mapping" {
		t.Errorf("a bad mapping: %d %s; want 400 naming mapping", r.status, r.body)
	}
	r = e.do("POST", "/api/v1/import?format=xlsx&type=achievement&skip_invalid=true&check_duplicates=true&mapping="+url.QueryEscape(`{"备注":""}`), e.keys["organizer"], "", bytes.NewReader(data))
	if r.status != 200 {
		t.Fatalf("import: %d %s", r.status, r.body)
	}
	if r := e.get("/api/v1/search?q="+url.QueryEscape("镁合金空心加压骨钉"), ""); !strings.Contains(string(r.body), "可降解镁合金空心加压骨钉") {
		t.Errorf("the imported row is not searchable: %s", r.body)
	}
	// The same sheet again, checked for duplicates: every good row is now
	// a near-duplicate of what the first import stored.
	r = e.do("POST", "/api/v1/import?format=xlsx&type=achievement&dry_run=true&check_duplicates=true", e.keys["organizer"], "", bytes.NewReader(data))
	if n := strings.Count(string(r.body), `"similar"`); n != 5 {
		t.Errorf("re-importing the sheet flags %d rows as near-duplicates; want 5: %s", n, r.body)
	}
}

func TestQualityAPI(t *testing.T) {
	e := newEnv(t)
	for _, c := range []struct {
		path, who string
		status    int
	}{
		{"/api/v1/admin/quality", "", 401},
		{"/api/v1/admin/quality", "ent1", 403},
		{"/api/v1/admin/quality?stale_months=0", "organizer", 400},
		{"/api/v1/admin/quality?limit=x", "organizer", 400},
		{"/api/v1/admin/quality?limit=3", "organizer", 200},
	} {
		r := e.get(c.path, c.who)
		if r.status != c.status {
			t.Errorf("GET %s as %q: %d %s; want %d", c.path, c.who, r.status, r.body, c.status)
			continue
		}
		if c.status != 200 {
			continue
		}
		var rep struct {
			Records int
			ByOwner []struct{ Owner string } `json:"by_owner"`
			Issues  []struct{ Class, Field string }
		}
		r.json(t, &rep)
		if rep.Records < 500 || len(rep.ByOwner) < 10 || len(rep.Issues) != 3 {
			t.Errorf("report: %d records, %d owners, %d issues listed; want the demo catalogue and 3 issues", rep.Records, len(rep.ByOwner), len(rep.Issues))
		}
	}
}

func TestDuplicatesAPI(t *testing.T) {
	e := newEnv(t)
	// A re-typed copy of ach-0001 in traditional characters.
	r := e.get("/api/v1/achievements/ach-0001", "organizer")
	var a medmatch.Achievement
	r.json(t, &a)
	copyRec := fmt.Sprintf(`{"title":"可充電雙通道腦起搏器系統","description":%q,"institution":"东岚医科大学附属第一医院","specialty":"神经","fields":["医疗器械"],"maturity":"clinical_trial"}`,
		strings.NewReplacer("电", "電", "脑", "腦", "统", "統", "双", "雙", "术", "術").Replace(a.Description))
	if r := e.send("POST", "/api/v1/achievements", "organizer", copyRec); r.status != 201 {
		t.Fatalf("create the copy: %d %s", r.status, r.body)
	}
	if r := e.get("/api/v1/admin/duplicates", "ent1"); r.status != 403 {
		t.Errorf("duplicates as an enterprise: %d; want 403", r.status)
	}
	if r := e.get("/api/v1/admin/duplicates?limit=0", "organizer"); r.status != 400 {
		t.Errorf("limit=0: %d; want 400", r.status)
	}
	r = e.get("/api/v1/admin/duplicates", "organizer")
	var out struct {
		Pairs []struct {
			A, B    struct{ Ref medmatch.Ref }
			Overlap float64
		}
	}
	r.json(t, &out)
	found := false
	for _, p := range out.Pairs {
		found = found || p.A.Ref.ID == "ach-0001" || p.B.Ref.ID == "ach-0001"
	}
	if !found {
		t.Errorf("the traditional-character copy of ach-0001 is not flagged: %s", r.body)
	}
}

// TestWorkflowAPI: the disclosure workflow and ownership through the
// HTTP API: an institution submits, an organizer requests changes (a 400
// without a note), publishes and values; an enterprise then reads the
// achievement without history, valuation or owners.
func TestWorkflowAPI(t *testing.T) {
	e := newEnv(t)
	body := `{"id":"ach-api-wf","title":"可吸收止血纱布","description":"氧化再生纤维素止血纱布，七天内吸收。","institution":"东岚医科大学附属第一医院","specialty":"骨科","fields":["生物材料"],"maturity":"preclinical",
		"ownership":{"basis":"empowerment","agreement_date":"2026-03-01","owners":[{"name":"东岚医科大学附属第一医院","role":"institution","share":30},{"name":"发明人甲","role":"inventor","share":70}]}}`
	if r := e.send("POST", "/api/v1/achievements", "inst", body); r.status != 201 {
		t.Fatalf("create as the institution: %d %s", r.status, r.body)
	}
	patch := func(who, body string) resp {
		cur := e.get("/api/v1/achievements/ach-api-wf", "organizer")
		var a medmatch.Achievement
		cur.json(t, &a)
		return e.send("PATCH", "/api/v1/achievements/ach-api-wf", who, strings.Replace(body, "VERSION", strconv.FormatInt(a.Version, 10), 1))
	}
	for _, c := range []struct {
		who, body string
		status    int
		field     string
	}{
		{"inst", `{"version":VERSION,"status":"published"}`, 403, "status"},
		{"inst", `{"version":VERSION,"status":"submitted"}`, 200, ""},
		{"organizer", `{"version":VERSION,"status":"changes_requested"}`, 400, "review_note"},
		{"organizer", `{"version":VERSION,"status":"changes_requested","review_note":"请补充临床前数据"}`, 200, ""},
		{"inst", `{"version":VERSION,"status":"submitted","valuation":{"method":"cost","min":1,"max":2,"date":"2026-11-01","by":"自评"}}`, 403, "valuation"},
		{"inst", `{"version":VERSION,"status":"submitted"}`, 200, ""},
		{"organizer", `{"version":VERSION,"status":"published","valuation":{"method":"income","min":300,"max":500,"date":"2026-11-20","by":"评估组"}}`, 200, ""},
	} {
		r := patch(c.who, c.body)
		if r.status != c.status {
			t.Fatalf("PATCH %s as %s: %d %s; want %d", c.body, c.who, r.status, r.body, c.status)
		}
		if c.field != "" {
			var ae apiError
			r.json(t, &ae)
			if ae.Error.Field != c.field {
				t.Errorf("PATCH %s as %s: field %q; want %q", c.body, c.who, ae.Error.Field, c.field)
			}
		}
	}
	var full, public medmatch.Achievement
	e.get("/api/v1/achievements/ach-api-wf", "inst").json(t, &full)
	e.get("/api/v1/achievements/ach-api-wf", "ent1").json(t, &public)
	if len(full.History) != 5 || full.Valuation == nil || len(full.Ownership.Owners) != 2 {
		t.Errorf("the institution reads history %d, valuation %v, owners %v", len(full.History), full.Valuation, full.Ownership)
	}
	if public.History != nil || public.Valuation != nil || public.Ownership == nil || public.Ownership.Owners != nil || public.Ownership.Summary == "" {
		t.Errorf("an enterprise reads history %v, valuation %v, ownership %+v; want a summary only", public.History, public.Valuation, public.Ownership)
	}
	if r := e.get("/api/v1/search?q="+url.QueryEscape("可吸收止血纱布"), "ent1"); strings.Contains(string(r.body), "发明人甲") || !strings.Contains(string(r.body), "ach-api-wf") {
		t.Errorf("search as an enterprise shows the inventor or misses the record: %s", r.body)
	}
}
