package api_test

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/medmatch/medmatch/matcher/roadshow"
)

// The browser tests drive Debian's chromium (headless, through chromedp)
// against a real server on loopback. Without chromium they skip, unless
// MEDMATCH_REQUIRE_BROWSER is set (as .ci/run does), when they fail.
// Screenshots of every page at 1280 and 375 px wide go to
// MEDMATCH_SCREENSHOTS (default build/screenshots at the repository root).

func chromiumPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("MEDMATCH_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("MEDMATCH_REQUIRE_BROWSER") != "" {
		t.Fatal("chromium is not installed (apt-get install chromium) and MEDMATCH_REQUIRE_BROWSER is set")
	}
	t.Skip("chromium is not installed; the browser tests need it (apt-get install chromium)")
	return ""
}

func newChrome(t *testing.T) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	ctx, cancelT := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(func() { cancelT(); cancelC(); cancelA() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

func run(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		loc, _ := chromedp.Run(ctx, chromedp.Location())
		t.Fatalf("%s (at %s): %v", what, loc, err)
	}
}

// into runs an action that returns a value and keeps the value in dst.
func into[T any](a chromedp.Action[T], dst *T) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		v, err := a(ctx, t)
		*dst = v
		return chromedp.Void{}, err
	}
}

func screenshotDir(t *testing.T) string {
	dir := os.Getenv("MEDMATCH_SCREENSHOTS")
	if dir == "" {
		dir = filepath.Join("..", "build", "screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

var shotMu sync.Mutex

// shoot saves full-page screenshots of the current page at 1280 and
// 375 px wide and checks that each rendered something: many colours, and
// a good share of the page not background.
func shoot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	shotMu.Lock()
	defer shotMu.Unlock()
	for _, w := range []int64{1280, 375} {
		var buf []byte
		run(t, ctx, "screenshot "+name, chromedp.EmulateViewport(w, 900), chromedp.Sleep(100*time.Millisecond), into(chromedp.FullScreenshot(100), &buf))
		path := filepath.Join(screenshotDir(t), name+"-"+itoa(w)+".png")
		if err := os.WriteFile(path, buf, 0o644); err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(buf))
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if colours, ink := inkOf(img); colours < 16 || ink < 0.02 {
			t.Errorf("%s looks blank: %d colours, %.1f%% ink", path, colours, 100*ink)
		}
		if img.Bounds().Dx() > int(w)+1 {
			t.Errorf("%s is %d px wide at a %d px viewport: the page scrolls sideways", path, img.Bounds().Dx(), w)
		}
	}
	run(t, ctx, "reset viewport", chromedp.EmulateViewport(1280, 900))
	// Every form control has a label, and nothing was loaded from another
	// host.
	var unlabelled, foreign []string
	run(t, ctx, "check labels and origins",
		into(chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("input:not([type=hidden]), select, textarea"))
			.filter(el => el.labels.length === 0 && !el.getAttribute("aria-label") && !el.getAttribute("aria-labelledby"))
			.map(el => el.outerHTML.slice(0, 120))`), &unlabelled),
		into(chromedp.Evaluate[[]string](`performance.getEntriesByType("resource").map(r => r.name)
			.filter(u => new URL(u).origin !== location.origin)`), &foreign),
	)
	if len(unlabelled) > 0 {
		t.Errorf("%s: form controls without a label: %v", name, unlabelled)
	}
	if len(foreign) > 0 {
		t.Errorf("%s: requests to other hosts: %v", name, foreign)
	}
}

// inkOf counts the distinct colours of an image (sampled) and the share
// of pixels that differ from the most common one.
func inkOf(img image.Image) (int, float64) {
	b := img.Bounds()
	counts := map[uint32]int{}
	n := 0
	for y := b.Min.Y; y < b.Max.Y; y += 3 {
		for x := b.Min.X; x < b.Max.X; x += 3 {
			r, g, bl, _ := img.At(x, y).RGBA()
			counts[(r>>11)<<10|(g>>11)<<5|bl>>11]++
			n++
		}
	}
	top := 0
	for _, c := range counts {
		top = max(top, c)
	}
	return len(counts), 1 - float64(top)/float64(n)
}

func signIn(t *testing.T, ctx context.Context, e *env, who string) {
	t.Helper()
	run(t, ctx, "sign in as "+who,
		chromedp.Navigate(e.url+"/signin"),
		chromedp.WaitVisible(chromedp.CSS("#key")),
		chromedp.SendKeys(chromedp.CSS("#key"), e.keys[who]),
		chromedp.Submit(chromedp.CSS("#key")),
		chromedp.WaitVisible(chromedp.CSS(".who .name")),
	)
}

// TestBrowserSearch: suggestions from pinyin, a search, a facet click,
// then an achievement.
func TestBrowserSearch(t *testing.T) {
	e := newEnv(t)
	ctx := newChrome(t)
	var sugg, loc, hits, title string
	run(t, ctx, "suggest from pinyin",
		chromedp.Navigate(e.url+"/"),
		chromedp.WaitVisible(chromedp.CSS("#q")),
		chromedp.SendKeys(chromedp.CSS("#q"), "naoqibo"),
		chromedp.WaitVisible(chromedp.CSS("#q-suggest li")),
		into(chromedp.Text(chromedp.CSS("#q-suggest")), &sugg),
	)
	if !strings.Contains(sugg, "脑起搏器") {
		t.Fatalf("suggestions for naoqibo: %q; want 脑起搏器", sugg)
	}
	shoot(t, ctx, "search-suggest")
	// Arrow down and Enter pick the first suggestion. The screenshots
	// resized the page and took the focus: type again so the list is open,
	// then wait for the navigation itself (the start page shows hits too).
	run(t, ctx, "pick a suggestion",
		chromedp.Clear(chromedp.CSS("#q")),
		chromedp.SendKeys(chromedp.CSS("#q"), "naoqibo"),
		chromedp.WaitVisible(chromedp.CSS("#q-suggest li")),
		chromedp.KeyEvent(kb.ArrowDown),
		chromedp.KeyEvent("\r"),
	)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		run(t, ctx, "location", into(chromedp.Location(), &loc))
		if strings.Contains(loc, "/achievements/") || strings.Contains(loc, "q=") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after picking a suggestion the browser is still at %s", loc)
		}
	}
	run(t, ctx, "the picked page", chromedp.WaitVisible(chromedp.CSS("main")))
	run(t, ctx, "search",
		chromedp.Navigate(e.url+"/?q="+urlEscape("脑起搏器")),
		chromedp.WaitVisible(chromedp.CSS(".hit mark")),
		into(chromedp.Text(chromedp.CSS(".hits")), &hits),
	)
	if !strings.Contains(hits, "脑起搏器") {
		t.Fatalf("hits: %q", hits)
	}
	shoot(t, ctx, "search")
	var facet, active string
	run(t, ctx, "click a facet",
		into(chromedp.Text(chromedp.CSS(`section[data-facet="specialty"] li:first-child a`)), &facet),
		chromedp.Click(chromedp.CSS(`section[data-facet="specialty"] li:first-child a`)),
		chromedp.WaitVisible(chromedp.CSS(`section[data-facet="specialty"] a.active`)),
		into(chromedp.Text(chromedp.CSS(`section[data-facet="specialty"] a.active`)), &active),
		into(chromedp.Location(), &loc),
	)
	if !strings.Contains(loc, "specialty=") || !strings.Contains(active, strings.TrimRight(facet, "0123456789")) {
		t.Fatalf("after clicking %q: at %s, active %q", facet, loc, active)
	}
	shoot(t, ctx, "search-facet")
	run(t, ctx, "open an achievement",
		chromedp.Click(chromedp.CSS(".hit h3 a")),
		chromedp.WaitVisible(chromedp.CSS(".record h1")),
		into(chromedp.Text(chromedp.CSS(".record h1")), &title),
		into(chromedp.Location(), &loc),
	)
	if !strings.Contains(loc, "/achievements/") || title == "" {
		t.Fatalf("achievement page: %s %q", loc, title)
	}
	shoot(t, ctx, "achievement")
	run(t, ctx, "empty result", chromedp.Navigate(e.url+"/?q=qqqzzzxxyy&specialty="+urlEscape("神经")), chromedp.WaitVisible(chromedp.CSS(".empty")))
	shoot(t, ctx, "search-empty")
	run(t, ctx, "clinical need", chromedp.Navigate(e.url+"/needs/need-001"), chromedp.WaitVisible(chromedp.CSS(".grid3")))
	shoot(t, ctx, "need")
	run(t, ctx, "sign-in page", chromedp.Navigate(e.url+"/signin"), chromedp.WaitVisible(chromedp.CSS("#key")))
	shoot(t, ctx, "signin")
}

// TestBrowserEnterprise: an enterprise signs in, marks interest in a
// recommended achievement and requests a meeting at the demo event.
func TestBrowserEnterprise(t *testing.T) {
	e := newEnv(t)
	loadDemoEvents(t, e)
	if r := e.send("POST", "/api/v1/events/evt-demo-device/plan", "organizer", ""); r.status != 200 {
		t.Fatalf("plan: %d %s", r.status, r.body)
	}
	ctx := newChrome(t)
	signIn(t, ctx, e, "ent1")
	var body string
	run(t, ctx, "home", chromedp.WaitVisible(chromedp.CSS(`a[href="/demands/dem-001"]`)))
	shoot(t, ctx, "enterprise-home")
	run(t, ctx, "mark interest",
		chromedp.Click(chromedp.CSS(`a[href="/demands/dem-001"]`)),
		chromedp.WaitVisible(chromedp.CSS(`.match button[value="interest"]`)),
		chromedp.Click(chromedp.CSS(`.match button[value="interest"]`)),
		chromedp.WaitVisible(chromedp.CSS(`.notice`)),
		into(chromedp.Text(chromedp.CSS(".matches")), &body),
	)
	if !strings.Contains(body, "已标记感兴趣") {
		t.Fatalf("after clicking 感兴趣 the list shows: %.300s", body)
	}
	shoot(t, ctx, "demand")
	var reqs string
	run(t, ctx, "request a meeting",
		chromedp.Navigate(e.url+"/events/evt-demo-device"),
		chromedp.WaitVisible(chromedp.CSS(`button[value="request"]`)),
		chromedp.Click(chromedp.CSS(`button[value="request"]`)),
		chromedp.WaitVisible(chromedp.CSS("#my-requests")),
		into(chromedp.Text(chromedp.CSS("#my-requests")), &reqs),
	)
	if !strings.Contains(reqs, "待确认") {
		t.Fatalf("my requests: %q", reqs)
	}
	shoot(t, ctx, "event-enterprise")
}

// TestBrowserOrganizer: an organizer creates an event, runs selection and
// scheduling, and downloads the workbook, which is read back.
func TestBrowserOrganizer(t *testing.T) {
	e := newEnv(t)
	ctx := newChrome(t)
	signIn(t, ctx, e, "organizer")
	run(t, ctx, "new event form",
		chromedp.Navigate(e.url+"/events/new"),
		chromedp.WaitVisible(chromedp.CSS("#title")),
		chromedp.SendKeys(chromedp.CSS("#title"), "浏览器测试推介会"),
		chromedp.SendKeys(chromedp.CSS("#theme"), "神经调控、康复与手术机器人"),
		chromedp.SetValue(chromedp.CSS("#date"), "2026-12-18"),
		chromedp.SetValue(chromedp.CSS("#status"), "published"),
		chromedp.SetValue(chromedp.CSS("#projects"), "5"),
		chromedp.SetValue(chromedp.CSS("#slots"), "14:00 20 3\n14:25 20 3\n14:50 20 3"),
		chromedp.Click(chromedp.CSS("#inv_ent-001")),
		chromedp.Click(chromedp.CSS("#inv_ent-003")),
		chromedp.Click(chromedp.CSS("#inv_ent-005")),
		chromedp.Click(chromedp.CSS("#inv_ent-010")),
	)
	shoot(t, ctx, "event-form")
	var summary string
	run(t, ctx, "save and plan",
		chromedp.Submit(chromedp.CSS("#title")),
		chromedp.WaitVisible(chromedp.CSS("#run-plan")),
		chromedp.Click(chromedp.CSS("#run-plan")),
		chromedp.WaitVisible(chromedp.CSS("#schedule")),
		into(chromedp.Text(chromedp.CSS(".notice")), &summary),
	)
	if !strings.Contains(summary, "推介项目") {
		t.Fatalf("after planning: %q", summary)
	}
	var cells int
	run(t, ctx, "grid", into(chromedp.Evaluate[int](`document.querySelectorAll("#schedule td.busy").length`), &cells))
	if cells == 0 {
		t.Fatal("the schedule grid shows no meeting")
	}
	shoot(t, ctx, "event-organizer")

	dir := t.TempDir()
	if _, err := chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: dir, EventsEnabled: ptr(true)}); err != nil {
		t.Fatal(err)
	}
	run(t, ctx, "download the workbook", chromedp.Click(chromedp.CSS(`a[href*="format=xlsx"]`)))
	// The file is named by its download id; wait until it reads as a
	// whole workbook.
	var sheets map[string][][]string
	for deadline := time.Now().Add(30 * time.Second); sheets == nil; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the workbook download did not finish")
		}
		files, _ := os.ReadDir(dir)
		for _, f := range files {
			if data, err := os.ReadFile(filepath.Join(dir, f.Name())); err == nil && !strings.HasSuffix(f.Name(), ".crdownload") {
				if s, err := roadshow.ReadXLSX(bytes.NewReader(data)); err == nil {
					sheets = s
				}
			}
		}
	}
	if len(sheets[roadshow.SheetEnterprises]) < 2 {
		t.Fatalf("the workbook's %s sheet has %d rows", roadshow.SheetEnterprises, len(sheets[roadshow.SheetEnterprises]))
	}
	var loc string
	run(t, ctx, "events list", into(chromedp.Location(), &loc), chromedp.Navigate(e.url+"/events"), chromedp.WaitVisible(chromedp.CSS(".table")))
	shoot(t, ctx, "events")
	run(t, ctx, "printable agenda", chromedp.Navigate(strings.Split(loc, "?")[0]), chromedp.WaitVisible(chromedp.CSS("#schedule")),
		chromedp.Navigate(e.url+"/api/v1/events/"+strings.TrimPrefix(strings.Split(loc, "?")[0], e.url+"/events/")+"/export?format=html"),
		chromedp.WaitVisible(chromedp.CSS("body")))
	shoot(t, ctx, "agenda-print")
}

func ptr[T any](v T) *T { return &v }
