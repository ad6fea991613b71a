package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/medmatch/medmatch"
	"github.com/medmatch/medmatch/bolt"
	"github.com/medmatch/medmatch/dict"
	"github.com/medmatch/medmatch/fixtures"
	"github.com/medmatch/medmatch/matcher/roadshow"
)

// run runs the CLI in-process and returns its exit code and output.
func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Run(context.Background(), args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

// startServer runs `serve` on a free loopback port in dir.
func startServer(t *testing.T, dir string, demo bool) (*Server, *bytes.Buffer) {
	t.Helper()
	var logs bytes.Buffer
	s := &Server{Data: dir, Addr: "127.0.0.1:0", Demo: demo, Log: slog.New(slog.NewTextHandler(&logs, nil))}
	if err := s.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	<-s.index.SuggestionsReady()
	return s, &logs
}

func TestServeDemoAndCLIThroughServer(t *testing.T) {
	dir := t.TempDir()
	s, _ := startServer(t, dir, true)
	res, err := http.Get("http://" + s.Addr + "/healthz")
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("healthz = %v %v; want 200", res, err)
	}
	res.Body.Close()

	code, out, errs := run(t, "search", "脑起搏器", "--data", dir, "--limit", "3")
	if code != 0 || !strings.Contains(out, "ach-0001") || !strings.Contains(out, "[脑起搏器]") {
		t.Fatalf("search = %d %q %q; want ach-0001 with [脑起搏器]", code, out, errs)
	}
	if first := strings.Index(out, "1. ["); first < 0 || !strings.Contains(out[first:first+40], "ach-0001") {
		t.Fatalf("search: ach-0001 is not the first hit:\n%s", out)
	}
	// key add prints the key alone; it works against the API.
	code, out, errs = run(t, "key", "add", "--data", dir, "--role", "enterprise", "--enterprise", "ent-001")
	key := strings.TrimSpace(out)
	if code != 0 || !strings.HasPrefix(key, "mm_") || strings.Count(out, "\n") != 1 {
		t.Fatalf("key add = %d %q %q", code, out, errs)
	}
	req, _ := http.NewRequest("GET", "http://"+s.Addr+"/api/v1/demands?limit=1000", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	res, err = http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("GET with new key = %v %v", res, err)
	}
	res.Body.Close()

	// import through the server: bad rows give exit 2 and file:line: field.
	file := filepath.Join(t.TempDir(), "teams.jsonl")
	os.WriteFile(file, []byte(`{"name":"影像组","institution":"云岫医学科学院","expertise":"CT重建"}
{"name":"","institution":"云岫医学科学院","expertise":"x"}
`), 0o644)
	code, out, errs = run(t, "import", file, "--type", "team", "--data", dir)
	if code != 2 || !strings.Contains(errs, "teams.jsonl:2: name: is required") || !strings.Contains(out, "nothing written") {
		t.Fatalf("import with a bad row = %d %q %q; want exit 2 naming teams.jsonl:2: name", code, out, errs)
	}
	code, out, errs = run(t, "import", file, "--type", "team", "--data", dir, "--skip-invalid")
	if code != 2 || !strings.Contains(out, "1 created") {
		t.Fatalf("import --skip-invalid = %d %q %q; want 1 created and exit 2 for the bad row", code, out, errs)
	}
	code, out, _ = run(t, "search", "CT重建", "--data", dir, "--type", "team")
	if code != 0 || !strings.Contains(out, "影像组") {
		t.Fatalf("imported team not searchable: %d %q", code, out)
	}
	code, out, errs = run(t, "suggest", "nqbq", "--data", dir)
	if code != 0 || !strings.HasPrefix(out, "脑起搏器\t") {
		t.Fatalf("suggest nqbq = %d %q %q; want 脑起搏器 first", code, out, errs)
	}
	code, out, errs = run(t, "search", "--data", dir, "--type", "achievement", "--filter", "specialty=骨科", "--facets", "maturity", "--sort", "price", "--limit", "3", "--", "-动物实验")
	if code != 0 || !strings.Contains(out, "maturity:") || !strings.Contains(out, "next page: --cursor") {
		t.Fatalf("search with filters = %d %q %q", code, out, errs)
	}
	code, _, errs = run(t, "search", "x", "--data", dir, "--filter", "colour=red")
	if code != 2 || !strings.Contains(errs, "colour") {
		t.Fatalf("search --filter colour=red = %d %q; want exit 2 naming colour", code, errs)
	}
	code, out, errs = run(t, "reindex", "--data", dir)
	if code != 0 || !strings.Contains(out, "reindexed") {
		t.Fatalf("reindex through server = %d %q %q", code, out, errs)
	}
	// match and train through the server; the demo start trained the matcher.
	code, out, errs = run(t, "match", "--demand", "dem-001", "--data", dir, "--limit", "5")
	if code != 0 || !strings.Contains(out, "ach-0001") || !strings.Contains(out, "semantic model v1") || !strings.Contains(out, "bias ") {
		t.Fatalf("match --demand = %d %q %q; want ach-0001 explained, semantic model v1", code, out, errs)
	}
	code, out, errs = run(t, "match", "--text", "骨折 内固定 可降解", "--data", dir, "--json", "--limit", "2")
	if code != 0 || !strings.Contains(out, `"explanation"`) {
		t.Fatalf("match --text --json = %d %q %q", code, out, errs)
	}
	code, _, errs = run(t, "match", "--achievement", "ach-0001", "--data", dir)
	if code != 1 || !strings.Contains(errs, "sign in") {
		t.Fatalf("anonymous match --achievement = %d %q; want exit 1 asking to sign in", code, errs)
	}
	labels := filepath.Join(t.TempDir(), "labels.jsonl")
	os.WriteFile(labels, []byte(`{"query":"dem-001","candidate":"ach-0001","grade":3}
{"query":"dem-001","candidate":"ach-0137","grade":0}
{"query":"dem-005","candidate":"ach-0001","grade":3,"split":"test"}
`), 0o644)
	code, out, errs = run(t, "train", "--labels", labels, "--data", dir)
	if code != 0 || !strings.Contains(out, "from 2 labels") {
		t.Fatalf("train = %d %q %q; want weights learned from the 2 training labels", code, out, errs)
	}
	// The demo roadshow: listed, planned through the server.
	code, out, errs = run(t, "roadshow", "list", "--data", dir)
	if code != 0 || !strings.Contains(out, "evt-demo-device") || !strings.Contains(out, "40 invited") {
		t.Fatalf("roadshow list = %d %q %q", code, out, errs)
	}
	code, out, errs = run(t, "roadshow", "plan", "evt-demo-device", "--data", dir)
	if code != 0 || !strings.Contains(out, "10 selected") || !strings.Contains(out, "schedule: ") {
		t.Fatalf("roadshow plan = %d %q %q; want 10 projects and a schedule", code, out, errs)
	}
	book := filepath.Join(t.TempDir(), "plan.xlsx")
	code, out, errs = run(t, "roadshow", "export", "evt-demo-device", "--out", book, "--data", dir)
	if code != 0 || !strings.Contains(out, "wrote") {
		t.Fatalf("roadshow export = %d %q %q", code, out, errs)
	}
	f, err := os.Open(book)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := roadshow.ReadXLSX(f)
	f.Close()
	if err != nil || len(tables[roadshow.SheetProjects]) != 11 || len(tables[roadshow.SheetGrid]) != 9 {
		t.Fatalf("exported workbook: %v; %d project rows (want 11), %d grid rows (want 9)", err, len(tables[roadshow.SheetProjects]), len(tables[roadshow.SheetGrid]))
	}
	code, _, errs = run(t, "roadshow", "plan", "evt-nope", "--data", dir)
	if code != 1 || !strings.Contains(errs, "evt-nope") {
		t.Fatalf("roadshow plan of a missing event = %d %q", code, errs)
	}
	os.WriteFile(labels, []byte(`{"query":"dem-001","candidate":"ach-0001","grade":9}`), 0o644)
	code, _, errs = run(t, "train", "--labels", labels, "--data", dir)
	if code != 2 || !strings.Contains(errs, "line 1: grade") {
		t.Fatalf("train with a bad grade = %d %q; want exit 2 naming line 1", code, errs)
	}
}

func TestRestartKeepsDataWithoutReindex(t *testing.T) {
	dir := t.TempDir()
	s, _ := startServer(t, dir, true)
	n1, _ := s.index.DocCount()
	s.Close()
	s2, logs := startServer(t, dir, true)
	n2, _ := s2.index.DocCount()
	if n1 != n2 || n1 < 590 {
		t.Fatalf("docs before restart %d, after %d; want equal and ≥ 590", n1, n2)
	}
	if l := logs.String(); strings.Contains(l, "index built") || !strings.Contains(l, "demo catalogue not loaded") {
		t.Fatalf("restart logs:\n%s\nwant no rebuild and no second demo load", l)
	}
}

func TestLockedDataDir(t *testing.T) {
	dir := t.TempDir()
	// Another process holds the store and does not answer at the address
	// its file names: the CLI must fail at once, naming it.
	s, err := bolt.Open(dir, bolt.Options{Taxonomy: dict.MustTaxonomy()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := writeServerFile(dir, serverInfo{Addr: "127.0.0.1:1", PID: 4242, Instance: "gone", Token: "x"}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	code, _, errs := run(t, "search", "心梗", "--data", dir)
	if code != 1 || !strings.Contains(errs, "pid 4242") || strings.Count(strings.TrimSpace(errs), "\n") != 0 {
		t.Fatalf("search on a held data dir = %d %q; want exit 1 and one line naming pid 4242", code, errs)
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Fatalf("took %v; want an immediate failure", el)
	}
	// serve fails the same way.
	code, _, errs = run(t, "serve", "--data", dir, "--addr", "127.0.0.1:0")
	if code != 1 || !strings.Contains(errs, "held by medmatch serve") {
		t.Fatalf("serve on a held data dir = %d %q", code, errs)
	}
}

func TestStaleServerFile(t *testing.T) {
	dir := t.TempDir()
	s, _ := startServer(t, dir, true)
	info := readServerFile(dir)
	s.Close()
	// A crash leaves the file behind; the CLI must notice nobody answers.
	if err := writeServerFile(dir, *info); err != nil {
		t.Fatal(err)
	}
	code, out, errs := run(t, "suggest", "nqbq", "--data", dir)
	if code != 0 || !strings.HasPrefix(out, "脑起搏器\t") {
		t.Fatalf("suggest without a server = %d %q %q; want 脑起搏器 first", code, out, errs)
	}
	code, out, errs = run(t, "search", "脑起搏器", "--data", dir, "--json")
	var res struct{ Hits []struct{ ID string } }
	if code != 0 || json.Unmarshal([]byte(out), &res) != nil || len(res.Hits) == 0 || res.Hits[0].ID != "ach-0001" {
		t.Fatalf("search with a stale server file = %d %q %q", code, out, errs)
	}
}

func TestUsage(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		args []string
		code int
		want string // in stdout or stderr
	}{
		{[]string{}, 2, "Usage:"},
		{[]string{"help"}, 0, "Usage:"},
		{[]string{"nope"}, 2, `unknown command "nope"`},
		{[]string{"import", "--help"}, 0, "jsonl"},
		{[]string{"import", "--help"}, 0, "-dry-run"},
		{[]string{"serve", "--help"}, 0, "-addr"},
		{[]string{"search", "--help"}, 0, "-limit"},
		{[]string{"key", "--help"}, 0, "-role"},
		{[]string{"reindex", "--help"}, 0, "-data"},
		{[]string{"search", "x", "--bogus"}, 2, "flag provided but not defined: -bogus"},
		{[]string{"search", "--data", dir}, 2, "want a QUERY"},
		{[]string{"search", "x", "--data", dir, "--limit", "500"}, 2, "limit"},
		{[]string{"import", "--data", dir}, 2, "want exactly one FILE"},
		{[]string{"import", "x.txt", "--data", dir}, 2, "cannot tell the format"},
		{[]string{"import", "missing.jsonl", "--data", dir}, 2, "no such file"},
		{[]string{"import", "x.jsonl", "--type", "patent", "--data", dir}, 2, "--type"},
		{[]string{"key", "add", "--data", dir, "--role", "king"}, 2, "unknown role"},
		{[]string{"key", "add", "--data", dir, "--role", "enterprise"}, 2, "--enterprise"},
		{[]string{"key", "add", "--data", dir, "--role", "enterprise", "--enterprise", "ent-404"}, 2, "no enterprise"},
		{[]string{"serve", "--data", dir, "--log-level", "loud"}, 2, "--log-level"},
		{[]string{"eval", "search"}, 2, "--file is required"},
		{[]string{"eval", "search", "--file", "missing.json"}, 2, "--file"},
		{[]string{"suggest", "--data", dir}, 2, "want one PREFIX"},
		{[]string{"bench", "--csl", "/nonexistent/csl.jsonl"}, 2, "CSL corpus not found"},
		{[]string{"match", "--data", dir}, 2, "exactly one of"},
		{[]string{"match", "--demand", "d", "--text", "x", "--data", dir}, 2, "exactly one of"},
		{[]string{"match", "--demand", "d", "--target", "robots", "--data", dir}, 2, "target"},
		{[]string{"train", "--k", "500", "--data", dir}, 2, "--k"},
		{[]string{"train", "--labels", "missing.jsonl", "--data", dir}, 2, "--labels"},
		{[]string{"eval", "match", "--catalogue", dir}, 2, "go together"},
		{[]string{"match", "--help"}, 0, "-target"},
		{[]string{"roadshow", "--data", dir}, 2, "roadshow list"},
		{[]string{"roadshow", "plan", "--data", dir}, 2, "roadshow plan EVENT_ID"},
		{[]string{"roadshow", "export", "e", "--data", dir}, 2, "--out is required"},
		{[]string{"roadshow", "export", "e", "--out", "x.pdf", "--data", dir}, 2, "cannot tell the format"},
		{[]string{"roadshow", "export", "e", "--out", "x.xlsx", "--sheet", "项目日程", "--data", dir}, 2, "--sheet goes with a .csv"},
	}
	for _, c := range cases {
		code, out, errs := run(t, c.args...)
		if code != c.code || !strings.Contains(out+errs, c.want) {
			t.Errorf("medmatch %s = %d\nstdout %q\nstderr %q\nwant exit %d and %q", strings.Join(c.args, " "), code, out, errs, c.code, c.want)
		}
	}
}

func TestRedisURLRefused(t *testing.T) {
	t.Setenv("REDIS_URL", "redis://127.0.0.1:6379")
	code, _, errs := run(t, "search", "x", "--data", t.TempDir())
	if code != 2 || !strings.Contains(errs, "REDIS_URL") {
		t.Fatalf("with REDIS_URL = %d %q; want exit 2 naming REDIS_URL", code, errs)
	}
}

func TestFlagsAfterArguments(t *testing.T) {
	fs := newFlags("x", "", "", &bytes.Buffer{})
	d := fs.String("data", "", "")
	n := fs.Int("n", 0, "")
	for _, c := range []struct {
		args []string
		pos  string
	}{
		{[]string{"a", "--data", "D", "b", "-n", "3"}, "[a b]"},
		{[]string{"--data", "D", "-n", "3", "a", "b"}, "[a b]"},
		{[]string{"-n", "3", "a", "--data", "D", "--", "-x", "--data"}, "[a -x --data]"},
	} {
		*d, *n = "", 0
		pos, err := parse(fs, c.args)
		if err != nil || fmt.Sprint(pos) != c.pos || *d != "D" || *n != 3 {
			t.Errorf("parse(%q) = %v, %v, data %q n %d; want %s, D, 3", c.args, pos, err, *d, *n, c.pos)
		}
	}
}

// A demo store made before roadshow events existed gets the demo event on
// the next serve --demo; the catalogue is not loaded twice.
func TestDemoEventIntoOlderDemoStore(t *testing.T) {
	dir := t.TempDir()
	st, err := openStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := fixtures.Records()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Import(context.Background(), medmatch.System, recs, medmatch.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	s, logs := startServer(t, dir, true)
	evs, err := s.store.Events(context.Background(), medmatch.System)
	if err != nil || len(evs) != 1 || evs[0].ID != "evt-demo-device" {
		t.Fatalf("events %v %v; want the demo event", evs, err)
	}
	if !strings.Contains(logs.String(), "demo catalogue not loaded") {
		t.Fatalf("logs:\n%s", logs.String())
	}
}

// Without a server the commands open the data dir themselves.
func TestMatchTrainRoadshowWithoutServer(t *testing.T) {
	dir := t.TempDir()
	s, _ := startServer(t, dir, true) // load the demo, fit the model, then stop
	s.Close()
	code, out, errs := run(t, "match", "--demand", "dem-001", "--data", dir, "--limit", "3")
	if code != 0 || !strings.Contains(out, "3 achievement matches") {
		t.Fatalf("local match = %d %q %q", code, out, errs)
	}
	code, out, errs = run(t, "train", "--data", dir)
	if code != 0 || !strings.Contains(out, "took") {
		t.Fatalf("local train = %d %q %q", code, out, errs)
	}
	book := filepath.Join(t.TempDir(), "plan.csv")
	code, out, errs = run(t, "roadshow", "export", "evt-demo-device", "--out", book, "--data", dir)
	if code != 0 || !strings.Contains(out, "wrote") {
		t.Fatalf("local roadshow export (plans first) = %d %q %q", code, out, errs)
	}
	data, _ := os.ReadFile(book)
	if !strings.HasPrefix(string(data), "\ufeff企业编号") {
		t.Fatalf("csv starts %.40q", data)
	}
}
