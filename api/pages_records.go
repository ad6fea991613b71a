package api

import (
	"context"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/medmatch/medmatch"
	"github.com/medmatch/medmatch/matcher"
)

type demoAccount struct {
	Value string
	Label string
}

type signinView struct {
	Next  string
	Demo  []demoAccount
	Error string
}

// safeNext keeps a redirect target on this site.
func safeNext(s string) string {
	if !strings.HasPrefix(s, "/") || strings.HasPrefix(s, "//") || strings.ContainsAny(s, "\\\r\n") || strings.HasPrefix(s, "/signin") {
		return "/"
	}
	return s
}

func (s *Server) signinPage(c echo.Context) error {
	view := signinView{Next: safeNext(c.QueryParam("next"))}
	if s.cfg.Demo && s.ready.Load() {
		view.Demo = s.demoAccounts(c.Request().Context())
	}
	return s.render(c, http.StatusOK, "signin", "登录", view)
}

// demoAccounts are the sign-in page's one-click accounts of a demo
// server: an organizer, the first enterprises invited to the first event
// (or the first enterprises), and the institution of the first
// achievement.
func (s *Server) demoAccounts(ctx context.Context) []demoAccount {
	out := []demoAccount{{"organizer", "组织者（技术转移中心）"}}
	var ents []string
	if evs, err := s.cfg.Store.Events(ctx, medmatch.System); err == nil && len(evs) > 0 {
		for _, inv := range evs[0].Invited {
			ents = append(ents, inv.EnterpriseID)
		}
	}
	if len(ents) == 0 {
		if pg, err := s.cfg.Store.List(ctx, medmatch.System, medmatch.KindEnterprise, medmatch.ListOptions{Limit: 3}); err == nil {
			for _, r := range pg.Records {
				ents = append(ents, r.(*medmatch.Enterprise).ID)
			}
		}
	}
	for _, id := range ents[:min(3, len(ents))] {
		if r, err := s.cfg.Store.Get(ctx, medmatch.System, medmatch.KindEnterprise, id); err == nil {
			out = append(out, demoAccount{"ent:" + id, "企业：" + r.(*medmatch.Enterprise).Name})
		}
	}
	if pg, err := s.cfg.Store.List(ctx, medmatch.System, medmatch.KindAchievement, medmatch.ListOptions{Limit: 1}); err == nil && len(pg.Records) > 0 {
		inst := pg.Records[0].(*medmatch.Achievement).Institution
		out = append(out, demoAccount{"inst:" + inst, "机构：" + inst})
	}
	return out
}

// signin is POST /signin: with an API key, or (demo servers) a demo
// account.
func (s *Server) signin(c echo.Context) error {
	if o := c.Request().Header.Get("Origin"); o != "" && o != "null" {
		if u, err := url.Parse(o); err != nil || u.Host != c.Request().Host {
			return medmatch.Errorf(medmatch.EFORBIDDEN, "Origin", "sign-in from another site is refused")
		}
	}
	next := safeNext(c.FormValue("next"))
	if demo := c.FormValue("demo"); demo != "" {
		if !s.cfg.Demo {
			return medmatch.Errorf(medmatch.EFORBIDDEN, "demo", "demo accounts exist only on a demo server (serve --demo)")
		}
		ss := &session{KeyID: "demo"}
		switch {
		case demo == "organizer":
			ss.Role = medmatch.RoleOrganizer
		case strings.HasPrefix(demo, "ent:"):
			id := strings.TrimPrefix(demo, "ent:")
			if _, err := s.cfg.Store.Get(c.Request().Context(), medmatch.System, medmatch.KindEnterprise, id); err != nil {
				return medmatch.Errorf(medmatch.EINVALID, "demo", "no enterprise %q", id)
			}
			ss.Role, ss.Enterprise = medmatch.RoleEnterprise, id
		case strings.HasPrefix(demo, "inst:") && len(demo) > 5:
			ss.Role, ss.Institution = medmatch.RoleInstitution, strings.TrimPrefix(demo, "inst:")
		default:
			return medmatch.Errorf(medmatch.EINVALID, "demo", "unknown demo account %q", demo)
		}
		s.startSession(c, ss)
		return c.Redirect(http.StatusSeeOther, landing(ss.Role, next))
	}
	secret := strings.TrimSpace(c.FormValue("key"))
	if secret == "" {
		return s.render(c, http.StatusBadRequest, "signin", "登录", signinView{Next: next, Error: "请输入访问密钥（key）。", Demo: s.demoList(c)})
	}
	hash := medmatch.HashKey(secret)
	k, err := s.cfg.Store.KeyByHash(c.Request().Context(), hash)
	if medmatch.ErrorCode(err) == medmatch.ENOTFOUND {
		return s.render(c, http.StatusUnauthorized, "signin", "登录", signinView{Next: next, Error: "密钥无效：请检查后重试。", Demo: s.demoList(c)})
	} else if err != nil {
		return err
	}
	s.startSession(c, &session{Role: k.Role, Enterprise: k.Enterprise, Institution: k.Institution, KeyID: k.ID, KeyHash: hash})
	return c.Redirect(http.StatusSeeOther, landing(k.Role, next))
}

func (s *Server) demoList(c echo.Context) []demoAccount {
	if !s.cfg.Demo {
		return nil
	}
	return s.demoAccounts(c.Request().Context())
}

// landing is where a sign-in goes when it was not sent from a page.
func landing(r medmatch.Role, next string) string {
	if next != "/" {
		return next
	}
	switch r {
	case medmatch.RoleOrganizer, medmatch.RoleAdmin:
		return "/events"
	case medmatch.RoleEnterprise, medmatch.RoleInstitution:
		return "/me"
	}
	return "/"
}

func (s *Server) signout(c echo.Context) error {
	endSession(c)
	return c.Redirect(http.StatusSeeOther, "/?notice="+url.QueryEscape("已退出登录。"))
}

// needSignIn is the error of a page that wants a signed-in user.
func needSignIn(v medmatch.Viewer) error {
	if v.Anonymous() {
		return medmatch.Errorf(medmatch.EUNAUTHORIZED, "", "sign in to see this page")
	}
	return nil
}

type matchView struct {
	ID       string
	URL      string
	Title    string
	Kind     string
	Score    float64
	Bars     []bar
	Terms    []string
	Meta     []string
	Feedback string // the viewer's last feedback on it
}

func matchesOf(res *matcher.Result) []matchView {
	var out []matchView
	for _, m := range res.Matches {
		mv := matchView{ID: m.ID, URL: "/" + m.Kind.Plural() + "/" + url.PathEscape(m.ID), Title: m.Title, Kind: label("type", m.Kind),
			Score: m.Score, Bars: bars(m.Explanation), Terms: m.Explanation.Terms}
		switch r := m.Record.(type) {
		case *medmatch.Achievement:
			mv.Meta = []string{r.Institution, label("maturity", r.Maturity), priceText(r.Price)}
		case *medmatch.Team:
			mv.Meta = []string{r.Institution}
		case *medmatch.Enterprise:
			mv.Meta = []string{r.Region}
			if m.Via != nil {
				mv.Meta = append(mv.Meta, "相关需求 "+m.Via.ID)
			}
		}
		out = append(out, mv)
	}
	return out
}

func (s *Server) match(c echo.Context, req matcher.Request) (*matcher.Result, error) {
	m := s.matcher.Load()
	if m == nil {
		return nil, medmatch.Errorf(medmatch.EUNAVAILABLE, "", "the matcher is not running")
	}
	return m.MatchCached(c.Request().Context(), viewer(c), req)
}

type achievementView struct {
	A          *medmatch.Achievement
	CanSeeWho  bool
	Interested []matchView
	MatchError string
	Teams      []*medmatch.Team
}

func (s *Server) achievementPage(c echo.Context) error {
	v := viewer(c)
	r, err := s.cfg.Store.Get(c.Request().Context(), v, medmatch.KindAchievement, c.Param("id"))
	if err != nil {
		return err
	}
	a := r.(*medmatch.Achievement)
	view := achievementView{A: a, CanSeeWho: v.Staff() || (v.Role == medmatch.RoleInstitution && v.Institution == a.Institution)}
	if view.CanSeeWho {
		res, err := s.match(c, matcher.Request{Source: &medmatch.Ref{Kind: medmatch.KindAchievement, ID: a.ID}, Limit: 10})
		if err != nil {
			view.MatchError = problemText(err)
		} else {
			view.Interested = matchesOf(res)
		}
	}
	return s.render(c, http.StatusOK, "achievement", a.Title, view)
}

type needView struct {
	N            *medmatch.ClinicalNeed
	Achievements []matchView
	Teams        []matchView
	Enterprises  []matchView
	Hidden       []string // match lists the viewer may not see
}

func (s *Server) needPage(c echo.Context) error {
	v := viewer(c)
	r, err := s.cfg.Store.Get(c.Request().Context(), v, medmatch.KindNeed, c.Param("id"))
	if err != nil {
		return err
	}
	n := r.(*medmatch.ClinicalNeed)
	view := needView{N: n}
	for _, t := range []struct {
		kind medmatch.Kind
		dst  *[]matchView
	}{{medmatch.KindAchievement, &view.Achievements}, {medmatch.KindTeam, &view.Teams}, {medmatch.KindEnterprise, &view.Enterprises}} {
		res, err := s.match(c, matcher.Request{Source: &medmatch.Ref{Kind: medmatch.KindNeed, ID: n.ID}, Target: t.kind, Limit: 5})
		if code := medmatch.ErrorCode(err); code == medmatch.EUNAUTHORIZED || code == medmatch.EFORBIDDEN {
			view.Hidden = append(view.Hidden, label("type", t.kind))
			continue
		} else if err != nil {
			return err
		}
		*t.dst = matchesOf(res)
	}
	return s.render(c, http.StatusOK, "need", n.Title, view)
}

type demandView struct {
	D           *medmatch.Demand
	Enterprise  string
	CanFeedback bool
	Matches     []matchView
}

// demandPage shows a demand and, to its enterprise and the organizers,
// the recommended achievements with their explanations and the feedback
// buttons; achievements dismissed before go to the end of the list.
func (s *Server) demandPage(c echo.Context) error {
	ctx := c.Request().Context()
	v := viewer(c)
	r, err := s.cfg.Store.Get(ctx, v, medmatch.KindDemand, c.Param("id"))
	if err != nil {
		return err
	}
	d := r.(*medmatch.Demand)
	view := demandView{D: d, Enterprise: d.EnterpriseID}
	if er, err := s.cfg.Store.Get(ctx, v, medmatch.KindEnterprise, d.EnterpriseID); err == nil {
		view.Enterprise = er.(*medmatch.Enterprise).Name
	}
	own := v.Staff() || (v.Role == medmatch.RoleEnterprise && v.Enterprise == d.EnterpriseID)
	if own {
		view.CanFeedback = medmatch.CanGiveFeedback(v, d, d) == nil
		res, err := s.match(c, matcher.Request{Source: &medmatch.Ref{Kind: medmatch.KindDemand, ID: d.ID}, Limit: 10})
		if err != nil {
			return err
		}
		view.Matches = matchesOf(res)
		// The viewer's own feedback on this demand's matches (the Store
		// gives feedback to staff only: read as the system, keep the
		// viewer's).
		last := map[string]string{}
		owner := v.Owner()
		err = s.cfg.Store.Feedback(ctx, medmatch.System, func(f medmatch.Feedback) error {
			if f.Source.Kind == medmatch.KindDemand && f.Source.ID == d.ID && (f.Principal == owner || v.Staff()) {
				last[f.Target.ID] = string(f.Action)
			}
			return nil
		})
		if err != nil {
			return err
		}
		for i := range view.Matches {
			view.Matches[i].Feedback = last[view.Matches[i].ID]
		}
		sort.SliceStable(view.Matches, func(i, j int) bool {
			return (view.Matches[i].Feedback == string(medmatch.FeedbackDismiss)) != (view.Matches[j].Feedback == string(medmatch.FeedbackDismiss)) &&
				view.Matches[j].Feedback == string(medmatch.FeedbackDismiss)
		})
	}
	return s.render(c, http.StatusOK, "demand", d.Title, view)
}

func (s *Server) teamPage(c echo.Context) error {
	r, err := s.cfg.Store.Get(c.Request().Context(), viewer(c), medmatch.KindTeam, c.Param("id"))
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "team", r.(*medmatch.Team).Name, r)
}

type enterpriseView struct {
	E       *medmatch.Enterprise
	Demands []*medmatch.Demand
	Own     bool
	Events  []*medmatch.Event
}

// enterpriseDemands lists the demands of enterprise id the viewer may
// read, newest first.
func (s *Server) enterpriseDemands(ctx context.Context, v medmatch.Viewer, id string) ([]*medmatch.Demand, error) {
	var out []*medmatch.Demand
	err := s.eachListed(ctx, v, medmatch.KindDemand, func(r medmatch.Record) bool {
		if d := r.(*medmatch.Demand); d.EnterpriseID == id {
			out = append(out, d)
		}
		return true
	})
	if err != nil {
		return nil, err
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].UpdatedAt.After(out[j].UpdatedAt) })
	return out, nil
}

func (s *Server) enterprisePage(c echo.Context) error {
	ctx := c.Request().Context()
	v := viewer(c)
	r, err := s.cfg.Store.Get(ctx, v, medmatch.KindEnterprise, c.Param("id"))
	if err != nil {
		return err
	}
	e := r.(*medmatch.Enterprise)
	view := enterpriseView{E: e, Own: v.Role == medmatch.RoleEnterprise && v.Enterprise == e.ID}
	if view.Demands, err = s.enterpriseDemands(ctx, v, e.ID); err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "enterprise", e.Name, view)
}

type meView struct {
	Enterprise  *medmatch.Enterprise
	Demands     []*medmatch.Demand
	Events      []*medmatch.Event
	Institution string
	Search      string
}

// mePage is the signed-in user's home: an enterprise's demands and the
// events it is invited to; an institution's catalogue; organizers go to
// the events.
func (s *Server) mePage(c echo.Context) error {
	ctx := c.Request().Context()
	v := viewer(c)
	if err := needSignIn(v); err != nil {
		return err
	}
	switch v.Role {
	case medmatch.RoleOrganizer, medmatch.RoleAdmin:
		return c.Redirect(http.StatusSeeOther, "/events")
	case medmatch.RoleInstitution:
		u := url.Values{"institution": {v.Institution}}
		return s.render(c, http.StatusOK, "me", v.Institution, meView{Institution: v.Institution, Search: pageURL("/", u)})
	case medmatch.RoleEnterprise:
	default:
		return c.Redirect(http.StatusSeeOther, "/")
	}
	r, err := s.cfg.Store.Get(ctx, v, medmatch.KindEnterprise, v.Enterprise)
	if err != nil {
		return err
	}
	view := meView{Enterprise: r.(*medmatch.Enterprise)}
	if view.Demands, err = s.enterpriseDemands(ctx, v, v.Enterprise); err != nil {
		return err
	}
	if view.Events, err = s.cfg.Store.Events(ctx, v); err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "me", view.Enterprise.Name, view)
}

// feedbackForm is POST /feedback from a demand page's buttons.
func (s *Server) feedbackForm(c echo.Context) error {
	v := viewer(c)
	if err := needSignIn(v); err != nil {
		return err
	}
	f := medmatch.Feedback{
		Source: medmatch.Ref{Kind: medmatch.Kind(c.FormValue("source_type")), ID: c.FormValue("source_id")},
		Target: medmatch.Ref{Kind: medmatch.Kind(c.FormValue("target_type")), ID: c.FormValue("target_id")},
		Action: medmatch.FeedbackAction(c.FormValue("action")),
	}
	fallback := "/" + f.Source.Kind.Plural() + "/" + url.PathEscape(f.Source.ID)
	if err := s.cfg.Store.AddFeedback(c.Request().Context(), v, &f); err != nil {
		if medmatch.ErrorCode(err) == medmatch.EINVALID {
			return back(c, fallback, "problem", problemText(err))
		}
		return err
	}
	msg := "已记录：感兴趣。"
	if f.Action == medmatch.FeedbackDismiss {
		msg = "已记录：不相关，今后将排在后面。"
	}
	return back(c, fallback, "notice", msg)
}
