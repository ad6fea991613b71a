package api

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"math"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/medmatch/medmatch"
	"github.com/medmatch/medmatch/matcher"
)

// The web pages: server-rendered html/template pages embedded in the
// binary, in Chinese, with one small script (web/static/app.js) for
// suggestions as you type. They call the same Store, index, matcher and
// planner as the JSON API, as the signed-in viewer, so visibility holds
// exactly as it does there.

//go:embed web
var webFS embed.FS

type pages struct {
	tmpl map[string]*template.Template
}

var pageFuncs = template.FuncMap{
	"label":    label,
	"reason":   reasonZH,
	"join":     func(sep string, xs []string) string { return strings.Join(xs, sep) },
	"pct":      func(x float64) string { return fmt.Sprintf("%.0f%%", 100*x) },
	"num":      func(x float64) string { return fmt.Sprintf("%.2f", x) },
	"add":      func(a, b int) int { return a + b },
	"date":     func(t time.Time) string { return t.Local().Format("2006-01-02") },
	"datetime": func(t time.Time) string { return t.Local().Format("2006-01-02 15:04") },
	"price":    priceText,
	"deref":    func(p *int) int { return *p },
	"dict": func(kv ...any) map[string]any {
		m := map[string]any{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[fmt.Sprint(kv[i])] = kv[i+1]
		}
		return m
	},
}

func loadPages() (*pages, error) {
	base, err := template.New("layout.html").Funcs(pageFuncs).ParseFS(webFS, "web/layout.html")
	if err != nil {
		return nil, err
	}
	names, err := fs.Glob(webFS, "web/*.html")
	if err != nil {
		return nil, err
	}
	p := &pages{tmpl: map[string]*template.Template{}}
	for _, n := range names {
		name := strings.TrimSuffix(strings.TrimPrefix(n, "web/"), ".html")
		if name == "layout" {
			continue
		}
		t, err := template.Must(base.Clone()).ParseFS(webFS, n)
		if err != nil {
			return nil, err
		}
		p.tmpl[name] = t
	}
	return p, nil
}

// page is what every template gets.
type page struct {
	Title   string
	Viewer  medmatch.Viewer
	Name    string // who is signed in, for the header
	CSRF    string
	Path    string
	Demo    bool
	Notice  string
	Problem string
	Data    any
}

// registerPages adds the page routes.
func (s *Server) registerPages(e *echo.Echo) {
	p, err := loadPages()
	if err != nil {
		panic(fmt.Sprintf("web pages: %v", err))
	}
	s.pages = p
	static, _ := fs.Sub(webFS, "web/static")
	e.GET("/static/*", echo.WrapHandler(http.StripPrefix("/static/", staticHandler(static))))
	ready := s.pageReady
	e.GET("/", s.searchPage, ready)
	e.GET("/signin", s.signinPage)
	e.POST("/signin", s.signin, middleware.BodyLimit("64K"))
	e.POST("/signout", s.signout)
	e.GET("/me", s.mePage, ready)
	e.GET("/achievements/:id", s.achievementPage, ready)
	e.GET("/needs/:id", s.needPage, ready)
	e.GET("/demands/:id", s.demandPage, ready)
	e.GET("/teams/:id", s.teamPage, ready)
	e.GET("/enterprises/:id", s.enterprisePage, ready)
	e.POST("/feedback", s.feedbackForm, ready, middleware.BodyLimit("64K"))
	e.GET("/events", s.eventsPage, ready)
	e.GET("/events/new", s.eventFormPage, ready)
	e.POST("/events/new", s.eventFormSubmit, ready, middleware.BodyLimit("1M"))
	e.GET("/events/:id", s.eventPage, ready)
	e.GET("/events/:id/edit", s.eventFormPage, ready)
	e.POST("/events/:id/edit", s.eventFormSubmit, ready, middleware.BodyLimit("1M"))
	e.POST("/events/:id/plan", s.eventPlanForm, ready, middleware.BodyLimit("64K"))
	e.POST("/events/:id/projects", s.eventProjectsForm, ready, middleware.BodyLimit("64K"))
	e.POST("/events/:id/requests", s.eventRequestsForm, ready, middleware.BodyLimit("64K"))
	e.POST("/events/:id/invitation", s.invitationForm, ready, middleware.BodyLimit("64K"))
}

func staticHandler(root fs.FS) http.Handler {
	h := http.FileServer(http.FS(root))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		h.ServeHTTP(w, r)
	})
}

// pageReady shows a "starting" page (503, refreshed by the browser) until
// the index is ready.
func (s *Server) pageReady(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if !s.ready.Load() {
			c.Response().Header().Set("Retry-After", "2")
			c.Response().Header().Set("Refresh", "2")
			return s.render(c, http.StatusServiceUnavailable, "error", "正在启动", errorPage{Heading: "服务正在启动", Message: "正在载入数据和索引，页面将自动刷新。"})
		}
		return next(c)
	}
}

func isPagePath(path string) bool {
	return path != "/healthz" && !strings.HasPrefix(path, "/api/") && !strings.HasPrefix(path, "/static/")
}

// render executes a page template into the response.
func (s *Server) render(c echo.Context, status int, name, title string, data any) error {
	t, ok := s.pages.tmpl[name]
	if !ok {
		return fmt.Errorf("no page template %q", name)
	}
	v := viewer(c)
	pg := page{Title: title, Viewer: v, Path: c.Request().URL.RequestURI(), Demo: s.cfg.Demo, Data: data,
		Notice: c.QueryParam("notice"), Problem: c.QueryParam("problem")}
	if ss, _ := c.Get(sessionKey).(*session); ss != nil {
		pg.CSRF = s.csrfToken(ss)
	}
	pg.Name = s.viewerName(c, v)
	var b bytes.Buffer
	if err := t.ExecuteTemplate(&b, "layout.html", pg); err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	return c.HTMLBlob(status, b.Bytes())
}

// viewerName is how the header names the signed-in user.
func (s *Server) viewerName(c echo.Context, v medmatch.Viewer) string {
	switch v.Role {
	case "":
		return ""
	case medmatch.RoleEnterprise:
		if r, err := s.cfg.Store.Get(c.Request().Context(), v, medmatch.KindEnterprise, v.Enterprise); err == nil {
			return r.(*medmatch.Enterprise).Name
		}
		return v.Enterprise
	case medmatch.RoleInstitution:
		return v.Institution
	}
	return label("role", v.Role)
}

type errorPage struct {
	Status  int
	Heading string
	Message string
	Field   string
}

var errorHeadings = map[int]string{
	http.StatusBadRequest: "请求有误", http.StatusUnauthorized: "请先登录", http.StatusForbidden: "无权访问",
	http.StatusNotFound: "未找到", http.StatusConflict: "内容已被他人修改", http.StatusMethodNotAllowed: "不支持的操作",
	http.StatusRequestEntityTooLarge: "提交的内容过大", http.StatusServiceUnavailable: "服务暂不可用",
}

// pageError renders err as an HTML error page; an anonymous viewer who
// needs to sign in is sent to the sign-in page instead.
func (s *Server) pageError(c echo.Context, status int, body *medmatch.Error) {
	if status == http.StatusUnauthorized && c.Request().Method == http.MethodGet {
		_ = c.Redirect(http.StatusSeeOther, "/signin?next="+url.QueryEscape(c.Request().URL.RequestURI()))
		return
	}
	h := errorHeadings[status]
	if h == "" {
		h = "出错了"
	}
	msg := body.Message
	if status >= 500 && status != http.StatusServiceUnavailable {
		msg = "服务器内部错误，请稍后再试。"
	}
	if s.pages == nil {
		_ = c.String(status, msg)
		return
	}
	if err := s.render(c, status, "error", h, errorPage{Status: status, Heading: h, Message: msg, Field: body.Field}); err != nil {
		s.log.Error("render error page", "err", err)
		_ = c.String(status, msg)
	}
}

// back redirects to the page the form came from (a local path only),
// with a notice or a problem to show.
func back(c echo.Context, fallback, key, msg string) error {
	to := c.FormValue("back")
	if !strings.HasPrefix(to, "/") || strings.HasPrefix(to, "//") || strings.ContainsAny(to, "\\\r\n") {
		to = fallback
	}
	u, err := url.Parse(to)
	if err != nil {
		u, _ = url.Parse(fallback)
	}
	q := u.Query()
	q.Del("notice")
	q.Del("problem")
	if msg != "" {
		q.Set(key, msg)
	}
	u.RawQuery = q.Encode()
	return c.Redirect(http.StatusSeeOther, u.String())
}

// problemText is an error as a page shows it: the field, then the message.
func problemText(err error) string {
	msg := medmatch.ErrorMessage(err)
	var me *medmatch.Error
	if errors.As(err, &me) && me.Field != "" {
		return me.Field + "：" + msg
	}
	return msg
}

func priceText(p *medmatch.Price) string {
	switch {
	case p == nil:
		return "未标价"
	case p.Min > 0 && p.Max > 0 && p.Min != p.Max:
		return fmt.Sprintf("%g–%g 万元", p.Min, p.Max)
	case p.Min > 0:
		s := fmt.Sprintf("%g 万元", p.Min)
		if p.Max == 0 {
			s += "起"
		}
		return s
	case p.Max > 0:
		return fmt.Sprintf("%g 万元以内", p.Max)
	case p.Negotiable:
		return "面议"
	}
	return "未标价"
}

// bar is one feature's contribution drawn as a bar: Width is its share
// of the largest absolute contribution in steps of 5 (5–100, a CSS class
// each: the pages' CSP allows no inline styles); Negative bars point left.
type bar struct {
	Name         string
	Value        float64
	Contribution float64
	Width        int
	Negative     bool
}

// bars turns an explanation into the bar chart the pages draw with CSS.
func bars(x matcher.Explanation) []bar {
	top := 0.0
	for _, f := range x.Features {
		top = math.Max(top, math.Abs(f.Contribution))
	}
	var out []bar
	for _, f := range x.Features {
		if f.Contribution == 0 {
			continue
		}
		w := 0
		if top > 0 {
			w = 5 * int(math.Round(20*math.Abs(f.Contribution)/top))
		}
		out = append(out, bar{Name: label("feature", f.Name), Value: f.Value, Contribution: f.Contribution, Width: max(w, 5), Negative: f.Contribution < 0})
	}
	return out
}

// eachListed calls fn for every record of kind k that v may read, in id
// order, page by page, until fn returns false.
func (s *Server) eachListed(ctx context.Context, v medmatch.Viewer, k medmatch.Kind, fn func(medmatch.Record) bool) error {
	opt := medmatch.ListOptions{Limit: medmatch.MaxLimit}
	for {
		pg, err := s.cfg.Store.List(ctx, v, k, opt)
		if err != nil {
			return err
		}
		for _, r := range pg.Records {
			if !fn(r) {
				return nil
			}
		}
		if pg.NextCursor == "" {
			return nil
		}
		opt.Cursor = pg.NextCursor
	}
}
