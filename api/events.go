package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/medmatch/medmatch"
	"github.com/medmatch/medmatch/matcher/roadshow"
)

// events answers GET /api/v1/events: the events the viewer may read.
func (s *Server) events(c echo.Context) error {
	list, err := s.cfg.Store.Events(c.Request().Context(), viewer(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"items": list, "total": len(list)})
}

func (s *Server) event(c echo.Context) error {
	e, err := s.cfg.Store.Event(c.Request().Context(), viewer(c), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, e)
}

func decodeEvent(c echo.Context) (*medmatch.Event, error) {
	body, err := readJSON(c)
	if err != nil {
		return nil, err
	}
	var e medmatch.Event
	if err := medmatch.DecodeJSON(body, &e); err != nil {
		return nil, err
	}
	return &e, nil
}

// createEvent answers POST /api/v1/events (organizers).
func (s *Server) createEvent(c echo.Context) error {
	e, err := decodeEvent(c)
	if err != nil {
		return err
	}
	if e.Version != 0 {
		return medmatch.Errorf(medmatch.EINVALID, "version", "a new event has no version; PUT /api/v1/events/{id} replaces one")
	}
	if err := s.cfg.Store.PutEvent(c.Request().Context(), viewer(c), e); err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, e)
}

// replaceEvent answers PUT /api/v1/events/:id with the event's current
// version: organizers edit it, an invited enterprise its own invitation.
func (s *Server) replaceEvent(c echo.Context) error {
	e, err := decodeEvent(c)
	if err != nil {
		return err
	}
	if e.ID != "" && e.ID != c.Param("id") {
		return medmatch.Errorf(medmatch.EINVALID, "id", "the body's id %q is not the path's %q", e.ID, c.Param("id"))
	}
	e.ID = c.Param("id")
	if e.Version == 0 {
		return medmatch.Errorf(medmatch.EINVALID, "version", "send the version you read, so that concurrent edits are not lost")
	}
	if err := s.cfg.Store.PutEvent(c.Request().Context(), viewer(c), e); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, e)
}

// planEventAPI answers POST /api/v1/events/:id/plan: screen, select,
// recommend and schedule, store the plan as a new version and return it.
func (s *Server) planEventAPI(c echo.Context) error {
	p, ver, err := s.planEvent(c.Request().Context(), viewer(c), c.Param("id"))
	if err != nil {
		return err
	}
	c.Response().Header().Set("X-Plan-Version", strconv.FormatInt(ver, 10))
	return c.JSON(http.StatusOK, p)
}

// planEvent plans event id and stores the plan as a new version.
func (s *Server) planEvent(ctx context.Context, v medmatch.Viewer, id string) (*roadshow.Plan, int64, error) {
	pl := &roadshow.Planner{Store: s.cfg.Store, Matcher: s.matcher.Load()}
	p, err := pl.Plan(ctx, v, id)
	if err != nil {
		return nil, 0, err
	}
	data, err := json.Marshal(p)
	if err != nil {
		return nil, 0, err
	}
	a := &medmatch.Artifact{Name: roadshow.PlanArtifact(p.EventID), Data: data, Note: fmt.Sprintf("event version %d", p.EventVersion)}
	if err := s.cfg.Store.PutArtifact(ctx, v, a); err != nil {
		return nil, 0, err
	}
	return p, a.Version, nil
}

// latestPlan reads the newest stored plan of event id, nil if none.
func (s *Server) latestPlan(ctx context.Context, id string) (*roadshow.Plan, int64, error) {
	a, err := s.cfg.Store.Artifact(ctx, roadshow.PlanArtifact(id), 0)
	if medmatch.ErrorCode(err) == medmatch.ENOTFOUND {
		return nil, 0, nil
	} else if err != nil {
		return nil, 0, err
	}
	var p roadshow.Plan
	if err := json.Unmarshal(a.Data, &p); err != nil {
		return nil, 0, err
	}
	return &p, a.Version, nil
}

// eventPlan answers GET /api/v1/events/:id/plan?version=N: a stored plan
// (the newest by default). Staff only.
func (s *Server) eventPlan(c echo.Context) error {
	ctx := c.Request().Context()
	v := viewer(c)
	if err := medmatch.CanManageArtifacts(v); err != nil {
		return err
	}
	if _, err := s.cfg.Store.Event(ctx, v, c.Param("id")); err != nil {
		return err
	}
	var ver int64
	if q := c.QueryParam("version"); q != "" {
		n, err := strconv.ParseInt(q, 10, 64)
		if err != nil || n < 1 {
			return medmatch.Errorf(medmatch.EINVALID, "version", "must be a positive integer, got %q", q)
		}
		ver = n
	}
	a, err := s.cfg.Store.Artifact(ctx, roadshow.PlanArtifact(c.Param("id")), ver)
	if err != nil {
		if medmatch.ErrorCode(err) == medmatch.ENOTFOUND && ver == 0 {
			return medmatch.Errorf(medmatch.ENOTFOUND, "plan", "event %q has not been planned; POST /api/v1/events/%s/plan", c.Param("id"), c.Param("id"))
		}
		return err
	}
	c.Response().Header().Set("X-Plan-Version", strconv.FormatInt(a.Version, 10))
	return c.JSONBlob(http.StatusOK, a.Data)
}

// exportEvent answers GET /api/v1/events/:id/export?format=xlsx|csv|html
// &sheet=&version=: the stored plan (the newest unless version is given)
// as a workbook, one table as CSV, or the printable agenda. Staff only.
func (s *Server) exportEvent(c echo.Context) error {
	ctx := c.Request().Context()
	v := viewer(c)
	if err := medmatch.CanManageArtifacts(v); err != nil {
		return err
	}
	ev, err := s.cfg.Store.Event(ctx, v, c.Param("id"))
	if err != nil {
		return err
	}
	var ver int64
	if q := c.QueryParam("version"); q != "" {
		n, err := strconv.ParseInt(q, 10, 64)
		if err != nil || n < 1 {
			return medmatch.Errorf(medmatch.EINVALID, "version", "must be a positive integer, got %q", q)
		}
		ver = n
	}
	format := c.QueryParam("format")
	if format == "" {
		format = "xlsx"
	}
	sheet := c.QueryParam("sheet")
	switch format {
	case "xlsx", "html":
		if sheet != "" {
			return medmatch.Errorf(medmatch.EINVALID, "sheet", "only the csv format takes a sheet")
		}
	case "csv":
		if sheet == "" {
			sheet = roadshow.SheetEnterprises
		}
	default:
		return medmatch.Errorf(medmatch.EINVALID, "format", "want xlsx, csv or html, got %q", format)
	}
	a, err := s.cfg.Store.Artifact(ctx, roadshow.PlanArtifact(ev.ID), ver)
	if err != nil {
		if medmatch.ErrorCode(err) == medmatch.ENOTFOUND && ver == 0 {
			return medmatch.Errorf(medmatch.ENOTFOUND, "plan", "event %q has not been planned; POST /api/v1/events/%s/plan", ev.ID, ev.ID)
		}
		return err
	}
	var p roadshow.Plan
	if err := json.Unmarshal(a.Data, &p); err != nil {
		return err
	}
	p.ApplyOrder(ev.Order)
	var b bytes.Buffer
	name := ev.ID + "-plan-v" + strconv.FormatInt(a.Version, 10)
	switch format {
	case "xlsx":
		if err := roadshow.WriteXLSX(&b, ev, &p); err != nil {
			return err
		}
		c.Response().Header().Set("Content-Disposition", `attachment; filename="`+name+`.xlsx"`)
		return c.Blob(http.StatusOK, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", b.Bytes())
	case "csv":
		if err := roadshow.WriteCSV(&b, ev, &p, sheet); err != nil {
			return err
		}
		c.Response().Header().Set("Content-Disposition", `attachment; filename="`+name+`.csv"`)
		return c.Blob(http.StatusOK, "text/csv; charset=utf-8", b.Bytes())
	default:
		if err := roadshow.WriteHTML(&b, ev, &p); err != nil {
			return err
		}
		return c.HTMLBlob(http.StatusOK, b.Bytes())
	}
}

// agenda answers GET /api/v1/events/:id/agenda: an invited enterprise's
// recommended projects and meetings in the newest plan — its own, or, for
// organizers, that of ?enterprise=ID.
func (s *Server) agenda(c echo.Context) error {
	ctx := c.Request().Context()
	v := viewer(c)
	ev, err := s.cfg.Store.Event(ctx, v, c.Param("id"))
	if err != nil {
		return err
	}
	ent := v.Enterprise
	if v.Staff() {
		if ent = c.QueryParam("enterprise"); ent == "" {
			return medmatch.Errorf(medmatch.EINVALID, "enterprise", "organizers name the enterprise: ?enterprise=ID")
		}
		if ev.Invitation(ent) == nil {
			return medmatch.Errorf(medmatch.ENOTFOUND, "enterprise", "%q is not invited to %s", ent, ev.ID)
		}
	} else if c.QueryParam("enterprise") != "" && c.QueryParam("enterprise") != ent {
		return medmatch.Errorf(medmatch.EFORBIDDEN, "enterprise", "an enterprise reads only its own agenda")
	}
	a, err := s.cfg.Store.Artifact(ctx, roadshow.PlanArtifact(ev.ID), 0)
	if medmatch.ErrorCode(err) == medmatch.ENOTFOUND {
		return medmatch.Errorf(medmatch.ENOTFOUND, "plan", "the organizers have not planned %s yet", ev.ID)
	} else if err != nil {
		return err
	}
	var p roadshow.Plan
	if err := json.Unmarshal(a.Data, &p); err != nil {
		return err
	}
	out := map[string]any{"event_id": ev.ID, "plan_version": a.Version, "enterprise_id": ent}
	meetings := []roadshow.PlannedMeeting{}
	for _, m := range p.Schedule.Meetings {
		if m.EnterpriseID == ent {
			meetings = append(meetings, m)
		}
	}
	out["meetings"] = meetings
	out["recommendations"] = []roadshow.Recommendation{}
	for _, ag := range p.Agenda {
		if ag.EnterpriseID == ent {
			out["name"], out["recommendations"] = ag.Name, ag.Recommendations
		}
	}
	return c.JSON(http.StatusOK, out)
}
