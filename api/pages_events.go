package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/medmatch/medmatch"
	"github.com/medmatch/medmatch/dict"
	"github.com/medmatch/medmatch/matcher/roadshow"
)

type eventsView struct {
	Events []*medmatch.Event
	Staff  bool
}

func (s *Server) eventsPage(c echo.Context) error {
	v := viewer(c)
	if err := needSignIn(v); err != nil {
		return err
	}
	evs, err := s.cfg.Store.Events(c.Request().Context(), v)
	if err != nil {
		return err
	}
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].Date > evs[j].Date })
	return s.render(c, http.StatusOK, "events", "推介会", eventsView{Events: evs, Staff: v.Staff()})
}

// eventForm is the create/edit form's state: the event as the form
// shows it and the choices.
type eventForm struct {
	New         bool
	E           *medmatch.Event
	Slots       string
	PoolFields  string
	Enterprises []inviteRow
	Maturities  []option
	IPStatuses  []option
	Weights     []weightRow
	Statuses    []option
	Errors      []string
	FieldsHint  string
}

type inviteRow struct {
	ID, Name, Region string
	Invited          bool
	Quota            int
}

type weightRow struct {
	Name, Label string
	Value       float64
}

func (s *Server) requireStaff(v medmatch.Viewer) error {
	if err := needSignIn(v); err != nil {
		return err
	}
	if !v.Staff() {
		return medmatch.Errorf(medmatch.EFORBIDDEN, "", "only organizers create and edit events")
	}
	return nil
}

// allEnterprises lists the enterprises the viewer may read, by id (at
// most 5,000).
func (s *Server) allEnterprises(ctx context.Context, v medmatch.Viewer) ([]*medmatch.Enterprise, error) {
	var out []*medmatch.Enterprise
	err := s.eachListed(ctx, v, medmatch.KindEnterprise, func(r medmatch.Record) bool {
		out = append(out, r.(*medmatch.Enterprise))
		return len(out) < 5000
	})
	return out, err
}

func (s *Server) buildEventForm(ctx context.Context, v medmatch.Viewer, e *medmatch.Event, isNew bool) (*eventForm, error) {
	f := &eventForm{New: isNew, E: e, FieldsHint: fieldsVocabulary()}
	var lines []string
	for _, sl := range e.Slots {
		lines = append(lines, fmt.Sprintf("%s %d %d", sl.Start, sl.Minutes, sl.Tables))
	}
	f.Slots = strings.Join(lines, "\n")
	f.PoolFields = strings.Join(e.Pool.Filters["fields"], "，")
	ents, err := s.allEnterprises(ctx, v)
	if err != nil {
		return nil, err
	}
	for _, en := range ents {
		row := inviteRow{ID: en.ID, Name: en.Name, Region: en.Region, Quota: medmatch.DefaultQuota}
		if inv := e.Invitation(en.ID); inv != nil {
			row.Invited, row.Quota = true, inv.Quota
		}
		f.Enterprises = append(f.Enterprises, row)
	}
	f.Maturities = append(f.Maturities, option{Value: "", Label: "不限", Selected: e.Rubric.MinMaturity == ""})
	for _, m := range medmatch.Maturities {
		f.Maturities = append(f.Maturities, option{Value: string(m), Label: label("maturity", m), Selected: m == e.Rubric.MinMaturity})
	}
	for _, st := range medmatch.IPStatuses {
		f.IPStatuses = append(f.IPStatuses, option{Value: string(st), Label: label("ip_status", st), Selected: slices.Contains(e.Rubric.IPStatuses, st)})
	}
	weights := e.Rubric.Weights
	if len(weights) == 0 {
		weights = medmatch.DefaultRubricWeights
	}
	for _, cr := range medmatch.RubricCriteria {
		f.Weights = append(f.Weights, weightRow{Name: cr, Label: label("criterion", cr), Value: weights[cr]})
	}
	for _, st := range []string{medmatch.EventDraft, medmatch.EventPublished, medmatch.EventClosed} {
		f.Statuses = append(f.Statuses, option{Value: st, Label: label("event", st), Selected: st == e.Status})
	}
	return f, nil
}

// eventFormPage is GET /events/new and /events/:id/edit.
func (s *Server) eventFormPage(c echo.Context) error {
	ctx := c.Request().Context()
	v := viewer(c)
	if err := s.requireStaff(v); err != nil {
		return err
	}
	e := &medmatch.Event{Projects: 8, Status: medmatch.EventDraft, Date: time.Now().AddDate(0, 0, 30).Format(time.DateOnly),
		Slots:        []medmatch.Slot{{Start: "14:00", Minutes: 20, Tables: 6}, {Start: "14:25", Minutes: 20, Tables: 6}, {Start: "14:50", Minutes: 20, Tables: 6}},
		SpecialtyCap: 3, InstitutionCap: 2}
	isNew := c.Param("id") == ""
	if !isNew {
		var err error
		if e, err = s.cfg.Store.Event(ctx, v, c.Param("id")); err != nil {
			return err
		}
	}
	f, err := s.buildEventForm(ctx, v, e, isNew)
	if err != nil {
		return err
	}
	title := "新建推介会"
	if !isNew {
		title = "编辑 · " + e.Title
	}
	return s.render(c, http.StatusOK, "eventform", title, f)
}

// formEvent applies the form to e (a copy of the stored event, or a new
// one); invitations of enterprises still invited keep their
// registration, availability and requests.
func formEvent(c echo.Context, e *medmatch.Event) []string {
	var problems []string
	bad := func(field, format string, args ...any) {
		problems = append(problems, field+"："+fmt.Sprintf(format, args...))
	}
	e.Title, e.Theme, e.Date, e.Venue = c.FormValue("title"), c.FormValue("theme"), c.FormValue("date"), c.FormValue("venue")
	e.Status, e.RequestTTL = c.FormValue("status"), c.FormValue("request_ttl")
	num := func(name string, dst *int) {
		s := strings.TrimSpace(c.FormValue(name))
		if s == "" {
			*dst = 0
			return
		}
		n, err := strconv.Atoi(s)
		if err != nil {
			bad(name, "应为整数，收到 %q", s)
			return
		}
		*dst = n
	}
	num("projects", &e.Projects)
	num("specialty_cap", &e.SpecialtyCap)
	num("institution_cap", &e.InstitutionCap)
	e.Slots = nil
	for i, line := range strings.Split(strings.ReplaceAll(c.FormValue("slots"), "\r", ""), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		parts := strings.Fields(line)
		sl := medmatch.Slot{}
		var err1, err2 error
		if len(parts) == 3 {
			sl.Start = parts[0]
			sl.Minutes, err1 = strconv.Atoi(parts[1])
			sl.Tables, err2 = strconv.Atoi(parts[2])
		}
		if len(parts) != 3 || err1 != nil || err2 != nil {
			bad(fmt.Sprintf("slots 第 %d 行", i+1), "应为“开始时间 分钟数 桌数”，如 14:00 20 6，收到 %q", line)
			continue
		}
		e.Slots = append(e.Slots, sl)
	}
	e.Pool.Query = strings.TrimSpace(c.FormValue("pool_q"))
	var fields []string
	for _, f := range strings.FieldsFunc(c.FormValue("pool_fields"), func(r rune) bool { return r == ',' || r == '，' || r == '、' }) {
		if f = strings.TrimSpace(f); f != "" {
			fields = append(fields, f)
		}
	}
	if len(fields) > 0 {
		if e.Pool.Filters == nil {
			e.Pool.Filters = map[string][]string{}
		}
		e.Pool.Filters["fields"] = fields
	} else if e.Pool.Filters != nil {
		delete(e.Pool.Filters, "fields")
	}
	form, _ := c.FormParams()
	var invited []medmatch.Invitation
	for _, id := range form["invite"] {
		inv := medmatch.Invitation{EnterpriseID: id}
		if old := e.Invitation(id); old != nil {
			inv = *old
		}
		if q := strings.TrimSpace(c.FormValue("quota_" + id)); q != "" {
			n, err := strconv.Atoi(q)
			if err != nil || n < 0 {
				bad("quota_"+id, "洽谈上限应为非负整数，收到 %q", q)
			}
			inv.Quota = n
		}
		invited = append(invited, inv)
	}
	e.Invited = invited
	e.Rubric.MinMaturity = medmatch.Maturity(c.FormValue("min_maturity"))
	e.Rubric.IPStatuses = nil
	for _, st := range form["ip_statuses"] {
		e.Rubric.IPStatuses = append(e.Rubric.IPStatuses, medmatch.IPStatus(st))
	}
	e.Rubric.Weights = map[string]float64{}
	for _, cr := range medmatch.RubricCriteria {
		s := strings.TrimSpace(c.FormValue("w_" + cr))
		if s == "" {
			continue
		}
		w, err := strconv.ParseFloat(s, 64)
		if err != nil {
			bad("w_"+cr, "权重应为数字，收到 %q", s)
			continue
		}
		e.Rubric.Weights[cr] = w
	}
	return problems
}

// eventFormSubmit is POST /events/new and /events/:id/edit.
func (s *Server) eventFormSubmit(c echo.Context) error {
	ctx := c.Request().Context()
	v := viewer(c)
	if err := s.requireStaff(v); err != nil {
		return err
	}
	isNew := c.Param("id") == ""
	e := &medmatch.Event{}
	if !isNew {
		old, err := s.cfg.Store.Event(ctx, v, c.Param("id"))
		if err != nil {
			return err
		}
		e = old
		ver, err := strconv.ParseInt(c.FormValue("version"), 10, 64)
		if err != nil {
			return medmatch.Errorf(medmatch.EINVALID, "version", "the form has no event version; reload the page")
		}
		e.Version = ver
	}
	problems := formEvent(c, e)
	if len(problems) == 0 {
		err := s.cfg.Store.PutEvent(ctx, v, e)
		if err == nil {
			msg := "已保存。"
			if isNew {
				msg = "推介会已创建。下一步：生成推介名单与洽谈日程。"
			}
			return c.Redirect(http.StatusSeeOther, "/events/"+url.PathEscape(e.ID)+"?notice="+url.QueryEscape(msg))
		}
		switch medmatch.ErrorCode(err) {
		case medmatch.EINVALID:
			problems = append(problems, validationProblems(err)...)
		case medmatch.ECONFLICT:
			problems = append(problems, "活动已被他人修改：请重新打开编辑页，再次修改。")
		default:
			return err
		}
	}
	f, err := s.buildEventForm(ctx, v, e, isNew)
	if err != nil {
		return err
	}
	f.Errors = problems
	return s.render(c, http.StatusBadRequest, "eventform", "请修改后重新提交", f)
}

// validationProblems lists each field of a validation error.
func validationProblems(err error) []string {
	var me *medmatch.Error
	if !errors.As(err, &me) {
		return []string{medmatch.ErrorMessage(err)}
	}
	if len(me.Details) == 0 {
		return []string{problemText(err)}
	}
	var out []string
	for _, d := range me.Details {
		out = append(out, d.Field+"："+d.Message)
	}
	return out
}

type gridCell struct {
	Enterprise string
	Project    string
	Requested  bool
	Locked     bool
}

type gridRow struct {
	Slot  int
	Start string
	Cells []gridCell
}

type requestRow struct {
	EnterpriseID, Enterprise, AchievementID, Project, Status string
	At                                                       time.Time
}

type selectedRow struct {
	roadshow.SelectedProject
	Excluded bool
}

type agendaRow struct {
	roadshow.EnterpriseAgenda
	Meetings []meetingRow
}

type meetingRow struct {
	Slot              int
	Start, End        string
	Table             int
	Project           string
	AchievementID     string
	Enterprise        string
	Requested, Locked bool
}

type eventView struct {
	E           *medmatch.Event
	Staff       bool
	Plan        *roadshow.Plan
	PlanVersion int64
	Stale       bool
	Selected    []selectedRow
	Requests    []requestRow
	Grid        []gridRow
	MaxTables   int
	Agenda      []agendaRow
	Names       map[string]string
	Titles      map[string]string
	Unplaced    []roadshow.UnplacedReason
	// The enterprise's own view.
	Mine      *medmatch.Invitation
	MyAgenda  *agendaRow
	Others    []roadshow.SelectedProject // presented projects not recommended to it
	MyStatus  map[string]string
	SlotsView []slotView
}

type slotView struct {
	Index      int
	Start, End string
	Tables     int
	Available  bool
}

func slotEnd(sl medmatch.Slot) string {
	t, err := time.Parse("15:04", sl.Start)
	if err != nil {
		return ""
	}
	return t.Add(time.Duration(sl.Minutes) * time.Minute).Format("15:04")
}

// eventPage is GET /events/:id: the organizer's workbench, or an invited
// enterprise's registration, requests and agenda.
func (s *Server) eventPage(c echo.Context) error {
	ctx := c.Request().Context()
	v := viewer(c)
	if err := needSignIn(v); err != nil {
		return err
	}
	ev, err := s.cfg.Store.Event(ctx, v, c.Param("id"))
	if err != nil {
		return err
	}
	p, ver, err := s.latestPlan(ctx, ev.ID)
	if err != nil {
		return err
	}
	view := &eventView{E: ev, Staff: v.Staff(), Plan: p, PlanVersion: ver, Names: map[string]string{}, Titles: map[string]string{}}
	if p != nil {
		p.ApplyOrder(ev.Order)
		view.Stale = p.EventVersion != ev.Version
		for _, sp := range p.Selected {
			view.Titles[sp.AchievementID] = sp.Title
		}
		for _, ag := range p.Agenda {
			view.Names[ag.EnterpriseID] = ag.Name
		}
	}
	// Names of invited enterprises and titles of requested projects the
	// plan does not name.
	var refs []medmatch.Ref
	for _, inv := range ev.Invited {
		if view.Names[inv.EnterpriseID] == "" && (v.Staff() || inv.EnterpriseID == v.Enterprise) {
			refs = append(refs, medmatch.Ref{Kind: medmatch.KindEnterprise, ID: inv.EnterpriseID})
		}
		for _, r := range inv.Requests {
			if view.Titles[r.AchievementID] == "" {
				refs = append(refs, medmatch.Ref{Kind: medmatch.KindAchievement, ID: r.AchievementID})
			}
		}
	}
	if len(refs) > 0 {
		recs, err := s.cfg.Store.GetMany(ctx, v, refs)
		if err != nil {
			return err
		}
		for _, r := range recs {
			switch r := r.(type) {
			case *medmatch.Enterprise:
				view.Names[r.ID] = r.Name
			case *medmatch.Achievement:
				view.Titles[r.ID] = r.Title
			}
		}
	}
	for i, sl := range ev.Slots {
		view.SlotsView = append(view.SlotsView, slotView{Index: i, Start: sl.Start, End: slotEnd(sl), Tables: sl.Tables, Available: true})
		view.MaxTables = max(view.MaxTables, sl.Tables)
	}
	locked := map[[3]string]bool{}
	for _, l := range ev.Locked {
		locked[[3]string{l.EnterpriseID, l.AchievementID, strconv.Itoa(l.Slot)}] = true
	}
	meetingsOf := func(ent string) []meetingRow {
		var out []meetingRow
		if p == nil {
			return out
		}
		for _, m := range p.Schedule.Meetings {
			if ent != "" && m.EnterpriseID != ent {
				continue
			}
			end := ""
			if m.Slot < len(ev.Slots) {
				end = slotEnd(ev.Slots[m.Slot])
			}
			out = append(out, meetingRow{Slot: m.Slot, Start: m.Start, End: end, Table: m.Table, Project: view.Titles[m.AchievementID],
				AchievementID: m.AchievementID, Enterprise: view.Names[m.EnterpriseID], Requested: m.Requested,
				Locked: locked[[3]string{m.EnterpriseID, m.AchievementID, strconv.Itoa(m.Slot)}]})
		}
		sort.Slice(out, func(i, j int) bool {
			return out[i].Slot < out[j].Slot || (out[i].Slot == out[j].Slot && out[i].Table < out[j].Table)
		})
		return out
	}

	if !v.Staff() {
		view.Mine = ev.Invitation(v.Enterprise)
		if view.Mine == nil {
			return medmatch.Errorf(medmatch.ENOTFOUND, "", "no such event")
		}
		if len(view.Mine.Available) > 0 {
			for i := range view.SlotsView {
				view.SlotsView[i].Available = slices.Contains(view.Mine.Available, i)
			}
		}
		view.MyStatus = map[string]string{}
		for _, r := range view.Mine.Requests {
			view.MyStatus[r.AchievementID] = r.Status
		}
		if p != nil {
			recommended := map[string]bool{}
			for _, ag := range p.Agenda {
				if ag.EnterpriseID == v.Enterprise {
					view.MyAgenda = &agendaRow{EnterpriseAgenda: ag, Meetings: meetingsOf(v.Enterprise)}
					for _, r := range ag.Recommendations {
						recommended[r.AchievementID] = true
					}
				}
			}
			if view.MyAgenda == nil {
				view.MyAgenda = &agendaRow{Meetings: meetingsOf(v.Enterprise)}
			}
			for _, sp := range p.Selected {
				if !recommended[sp.AchievementID] {
					view.Others = append(view.Others, sp)
				}
			}
		}
		for _, r := range view.Mine.Requests {
			view.Requests = append(view.Requests, requestRow{AchievementID: r.AchievementID, Project: view.Titles[r.AchievementID], Status: r.Status, At: r.At})
		}
		return s.render(c, http.StatusOK, "event_enterprise", ev.Title, view)
	}

	excluded := map[string]bool{}
	for _, x := range ev.Excludes {
		excluded[x] = true
	}
	for _, inv := range ev.Invited {
		for _, r := range inv.Requests {
			view.Requests = append(view.Requests, requestRow{EnterpriseID: inv.EnterpriseID, Enterprise: view.Names[inv.EnterpriseID],
				AchievementID: r.AchievementID, Project: view.Titles[r.AchievementID], Status: r.Status, At: r.At})
		}
	}
	sort.SliceStable(view.Requests, func(i, j int) bool {
		return (view.Requests[i].Status == medmatch.RequestPending) && view.Requests[j].Status != medmatch.RequestPending
	})
	if p != nil {
		for _, sp := range p.Selected {
			view.Selected = append(view.Selected, selectedRow{SelectedProject: sp, Excluded: excluded[sp.AchievementID]})
		}
		view.Grid = make([]gridRow, len(ev.Slots))
		for i, sl := range ev.Slots {
			view.Grid[i] = gridRow{Slot: i, Start: sl.Start + "–" + slotEnd(sl), Cells: make([]gridCell, view.MaxTables)}
		}
		for _, m := range meetingsOf("") {
			if m.Slot < len(view.Grid) && m.Table-1 < view.MaxTables && m.Table >= 1 {
				view.Grid[m.Slot].Cells[m.Table-1] = gridCell{Enterprise: m.Enterprise, Project: m.Project, Requested: m.Requested, Locked: m.Locked}
			}
		}
		for _, ag := range p.Agenda {
			view.Agenda = append(view.Agenda, agendaRow{EnterpriseAgenda: ag, Meetings: meetingsOf(ag.EnterpriseID)})
		}
		view.Unplaced = p.Schedule.Unplaced
	}
	return s.render(c, http.StatusOK, "event", ev.Title, view)
}

func eventURL(id string) string { return "/events/" + url.PathEscape(id) }

// eventPlanForm is POST /events/:id/plan: select, recommend and schedule.
func (s *Server) eventPlanForm(c echo.Context) error {
	v := viewer(c)
	if err := s.requireStaff(v); err != nil {
		return err
	}
	p, ver, err := s.planEvent(c.Request().Context(), v, c.Param("id"))
	if err != nil {
		if medmatch.ErrorCode(err) == medmatch.EINVALID {
			return back(c, eventURL(c.Param("id")), "problem", "无法生成方案："+problemText(err))
		}
		return err
	}
	msg := fmt.Sprintf("已生成第 %d 版方案：%d 个推介项目，%d 场洽谈，用时 %d 毫秒。", ver, len(p.Selected), len(p.Schedule.Meetings), p.TookMS)
	return back(c, eventURL(c.Param("id")), "notice", msg)
}

// putEventForm stores an event changed by a form, checking the version
// the form was rendered with; a conflict or an invalid change goes back
// to the page as a problem.
func (s *Server) putEventForm(c echo.Context, v medmatch.Viewer, e *medmatch.Event) (bool, error) {
	ver, err := strconv.ParseInt(c.FormValue("version"), 10, 64)
	if err != nil {
		return false, back(c, eventURL(e.ID), "problem", "表单缺少活动版本：请刷新页面后重试。")
	}
	e.Version = ver
	if err := s.cfg.Store.PutEvent(c.Request().Context(), v, e); err != nil {
		switch medmatch.ErrorCode(err) {
		case medmatch.ECONFLICT:
			return false, back(c, eventURL(e.ID), "problem", "活动已被他人修改：页面已刷新，请再操作一次。")
		case medmatch.EINVALID, medmatch.EFORBIDDEN:
			return false, back(c, eventURL(e.ID), "problem", problemText(err))
		}
		return false, err
	}
	return true, nil
}

// eventProjectsForm is POST /events/:id/projects: pin, unpin, exclude,
// include, or move a presented project up or down. Pins and excludes
// re-plan at once (when the event was planned); moves only reorder.
func (s *Server) eventProjectsForm(c echo.Context) error {
	ctx := c.Request().Context()
	v := viewer(c)
	if err := s.requireStaff(v); err != nil {
		return err
	}
	e, err := s.cfg.Store.Event(ctx, v, c.Param("id"))
	if err != nil {
		return err
	}
	id, action := c.FormValue("achievement_id"), c.FormValue("action")
	if !medmatch.ValidID(id) {
		return back(c, eventURL(e.ID), "problem", "achievement_id：缺少项目编号")
	}
	remove := func(xs []string, x string) []string {
		return slices.DeleteFunc(xs, func(y string) bool { return y == x })
	}
	replan := true
	var msg string
	switch action {
	case "pin":
		e.Excludes = remove(e.Excludes, id)
		if !slices.Contains(e.Pins, id) {
			e.Pins = append(e.Pins, id)
		}
		msg = "已固定该项目。"
	case "unpin":
		e.Pins = remove(e.Pins, id)
		msg = "已取消固定。"
	case "exclude":
		e.Pins = remove(e.Pins, id)
		e.Order = remove(e.Order, id)
		if !slices.Contains(e.Excludes, id) {
			e.Excludes = append(e.Excludes, id)
		}
		msg = "已排除该项目，并重新遴选。"
	case "include":
		e.Excludes = remove(e.Excludes, id)
		msg = "已恢复该项目。"
	case "up", "down":
		replan = false
		p, _, err := s.latestPlan(ctx, e.ID)
		if err != nil {
			return err
		}
		if p == nil {
			return back(c, eventURL(e.ID), "problem", "尚未生成方案，无法调整顺序。")
		}
		p.ApplyOrder(e.Order)
		order := make([]string, len(p.Selected))
		at := -1
		for i, sp := range p.Selected {
			order[i] = sp.AchievementID
			if sp.AchievementID == id {
				at = i
			}
		}
		to := at - 1
		if action == "down" {
			to = at + 1
		}
		if at < 0 || to < 0 || to >= len(order) {
			return back(c, eventURL(e.ID), "problem", "无法移动该项目。")
		}
		order[at], order[to] = order[to], order[at]
		e.Order = order
		msg = "已调整推介顺序。"
	default:
		return back(c, eventURL(e.ID), "problem", fmt.Sprintf("action：未知操作 %q", action))
	}
	if ok, err := s.putEventForm(c, v, e); !ok {
		return err
	}
	if replan {
		if p, _, err := s.latestPlan(ctx, e.ID); err != nil {
			return err
		} else if p != nil {
			if _, _, err := s.planEvent(ctx, v, e.ID); err != nil {
				return back(c, eventURL(e.ID), "problem", "已保存，但重新生成方案失败："+problemText(err))
			}
		}
	}
	return back(c, eventURL(e.ID), "notice", msg)
}

// eventRequestsForm is POST /events/:id/requests: an organizer accepts or
// rejects an enterprise's meeting request.
func (s *Server) eventRequestsForm(c echo.Context) error {
	ctx := c.Request().Context()
	v := viewer(c)
	if err := s.requireStaff(v); err != nil {
		return err
	}
	e, err := s.cfg.Store.Event(ctx, v, c.Param("id"))
	if err != nil {
		return err
	}
	status := c.FormValue("status")
	if status != medmatch.RequestAccepted && status != medmatch.RequestRejected {
		return back(c, eventURL(e.ID), "problem", "status：应为 accepted 或 rejected")
	}
	inv := e.Invitation(c.FormValue("enterprise_id"))
	if inv == nil {
		return back(c, eventURL(e.ID), "problem", "enterprise_id：该企业未受邀")
	}
	found := false
	for i := range inv.Requests {
		if inv.Requests[i].AchievementID == c.FormValue("achievement_id") {
			inv.Requests[i].Status, found = status, true
		}
	}
	if !found {
		return back(c, eventURL(e.ID), "problem", "achievement_id：该企业没有申请与此项目洽谈")
	}
	if ok, err := s.putEventForm(c, v, e); !ok {
		return err
	}
	msg := "已接受该洽谈申请；重新生成日程后排入。"
	if status == medmatch.RequestRejected {
		msg = "已拒绝该洽谈申请。"
	}
	return back(c, eventURL(e.ID), "notice", msg)
}

// invitationForm is POST /events/:id/invitation: an invited enterprise
// registers, gives its availability, requests a meeting or withdraws a
// pending request.
func (s *Server) invitationForm(c echo.Context) error {
	ctx := c.Request().Context()
	v := viewer(c)
	if err := needSignIn(v); err != nil {
		return err
	}
	e, err := s.cfg.Store.Event(ctx, v, c.Param("id"))
	if err != nil {
		return err
	}
	ent := v.Enterprise
	if v.Staff() {
		ent = c.FormValue("enterprise_id")
	}
	inv := e.Invitation(ent)
	if inv == nil {
		return back(c, eventURL(e.ID), "problem", "enterprise_id：该企业未受邀")
	}
	var msg string
	switch c.FormValue("action") {
	case "register":
		inv.Registered, msg = true, "已报名。"
	case "unregister":
		inv.Registered, msg = false, "已取消报名。"
	case "availability":
		form, _ := c.FormParams()
		var avail []int
		for _, s := range form["slot"] {
			n, err := strconv.Atoi(s)
			if err != nil || n < 0 || n >= len(e.Slots) {
				return back(c, eventURL(e.ID), "problem", fmt.Sprintf("slot：没有第 %s 时段", s))
			}
			avail = append(avail, n)
		}
		if len(avail) == 0 {
			return back(c, eventURL(e.ID), "problem", "slot：请至少选择一个可洽谈的时段")
		}
		sort.Ints(avail)
		avail = slices.Compact(avail)
		if len(avail) == len(e.Slots) {
			avail = nil // every slot
		}
		inv.Available, msg = avail, "已保存可洽谈时段。"
	case "request":
		id := c.FormValue("achievement_id")
		if !medmatch.ValidID(id) {
			return back(c, eventURL(e.ID), "problem", "achievement_id：缺少项目编号")
		}
		for _, r := range inv.Requests {
			if r.AchievementID == id {
				return back(c, eventURL(e.ID), "notice", "已申请过与该项目洽谈。")
			}
		}
		inv.Requests = append(inv.Requests, medmatch.MeetingRequest{AchievementID: id, Status: medmatch.RequestPending, At: time.Now().UTC()})
		msg = "已提交洽谈申请，等待组织者确认。"
	case "withdraw":
		id := c.FormValue("achievement_id")
		n := len(inv.Requests)
		inv.Requests = slices.DeleteFunc(inv.Requests, func(r medmatch.MeetingRequest) bool {
			return r.AchievementID == id && r.Status == medmatch.RequestPending
		})
		if len(inv.Requests) == n {
			return back(c, eventURL(e.ID), "problem", "achievement_id：没有可撤回的待确认申请")
		}
		msg = "已撤回洽谈申请。"
	default:
		return back(c, eventURL(e.ID), "problem", fmt.Sprintf("action：未知操作 %q", c.FormValue("action")))
	}
	if ok, err := s.putEventForm(c, v, e); !ok {
		return err
	}
	return back(c, eventURL(e.ID), "notice", msg)
}

// fieldsVocabulary lists the technology fields, for the pool form's hint.
func fieldsVocabulary() string {
	tax, err := dict.Taxonomy()
	if err != nil {
		return ""
	}
	return strings.Join(tax.Fields.Labels(), "、")
}
