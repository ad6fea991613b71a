package storetest

import (
	"context"
	"testing"

	"github.com/medmatch/medmatch"
)

// Event returns a valid draft event inviting ent-1 and ent-2.
func Event(id string) *medmatch.Event {
	return &medmatch.Event{ID: id, Title: "医疗器械转化项目推介会", Theme: "神经调控与植入器械", Date: "2026-12-10",
		Slots:    []medmatch.Slot{{Start: "14:00", Minutes: 20, Tables: 4}, {Start: "14:25", Minutes: 20, Tables: 4}},
		Projects: 5,
		Invited:  []medmatch.Invitation{{EnterpriseID: "ent-1"}, {EnterpriseID: "ent-2", Available: []int{1}}}}
}

func testEvents(t *testing.T, s medmatch.Store) {
	seed(t, s)
	ctx := context.Background()
	e := Event("")
	code(t, s.PutEvent(ctx, ent1, e), medmatch.EFORBIDDEN)
	code(t, s.PutEvent(ctx, anon, Event("")), medmatch.EUNAUTHORIZED)
	e = Event("")
	if err := s.PutEvent(ctx, organizer, e); err != nil {
		t.Fatal(err)
	}
	if e.ID == "" || e.Version != 1 || e.Status != medmatch.EventDraft || e.Invited[0].Quota != medmatch.DefaultQuota {
		t.Fatalf("created %+v; want an id, version 1, status draft, default quota", e)
	}
	// A draft is hidden from the invited enterprises.
	_, err := s.Event(ctx, ent1, e.ID)
	code(t, err, medmatch.ENOTFOUND)
	// Publish; a stale version conflicts.
	stale := *e
	e.Status = medmatch.EventPublished
	must[struct{}](t)(struct{}{}, s.PutEvent(ctx, organizer, e))
	stale.Title = "改名"
	code(t, s.PutEvent(ctx, organizer, &stale), medmatch.ECONFLICT)
	again := Event(e.ID)
	code(t, s.PutEvent(ctx, organizer, again), medmatch.ECONFLICT) // exists, no version
	got := must[*medmatch.Event](t)(s.Event(ctx, ent1, e.ID))
	if got.Version != 2 || got.Status != medmatch.EventPublished {
		t.Fatalf("ent-1 reads %+v", got)
	}
	// An enterprise not invited sees nothing.
	other := medmatch.Viewer{Role: medmatch.RoleEnterprise, Enterprise: "ent-9"}
	_, err = s.Event(ctx, other, e.ID)
	code(t, err, medmatch.ENOTFOUND)
	// ent-1 registers, gives its availability and asks for a meeting.
	mine := must[*medmatch.Event](t)(s.Event(ctx, ent1, e.ID))
	inv := mine.Invitation("ent-1")
	inv.Registered, inv.Available, inv.Quota = true, []int{0}, 2
	inv.Requests = []medmatch.MeetingRequest{{AchievementID: "ach-pub"}}
	must[struct{}](t)(struct{}{}, s.PutEvent(ctx, ent1, mine))
	if mine.Version != 3 || mine.Invitation("ent-1").Requests[0].Status != medmatch.RequestPending {
		t.Fatalf("after registering: %+v", mine)
	}
	// It may not accept its own request, touch ent-2's invitation or the event.
	for name, change := range map[string]func(*medmatch.Event){
		"accept":   func(x *medmatch.Event) { x.Invitation("ent-1").Requests[0].Status = medmatch.RequestAccepted },
		"other":    func(x *medmatch.Event) { x.Invitation("ent-2").Quota = 9 },
		"title":    func(x *medmatch.Event) { x.Title = "我方改名" },
		"uninvite": func(x *medmatch.Event) { x.Invited = x.Invited[1:] },
		"new accepted": func(x *medmatch.Event) {
			x.Invitation("ent-1").Requests = append(x.Invitation("ent-1").Requests, medmatch.MeetingRequest{AchievementID: "ach-x", Status: medmatch.RequestAccepted})
		},
	} {
		x := must[*medmatch.Event](t)(s.Event(ctx, ent1, e.ID))
		change(x)
		if err := s.PutEvent(ctx, ent1, x); medmatch.ErrorCode(err) != medmatch.EFORBIDDEN {
			t.Fatalf("%s: enterprise change gave %v; want forbidden", name, err)
		}
	}
	// The organizer accepts it.
	org := must[*medmatch.Event](t)(s.Event(ctx, organizer, e.ID))
	org.Invitation("ent-1").Requests[0].Status = medmatch.RequestAccepted
	must[struct{}](t)(struct{}{}, s.PutEvent(ctx, organizer, org))
	// Validation names the field.
	for field, change := range map[string]func(*medmatch.Event){
		"date":                     func(x *medmatch.Event) { x.Date = "2026-13-40" },
		"slots[1].start":           func(x *medmatch.Event) { x.Slots[1].Start = "14:10" },
		"invited[1].available[0]":  func(x *medmatch.Event) { x.Invited[1].Available = []int{5} },
		"invited[0].enterprise_id": func(x *medmatch.Event) { x.Invited[0].EnterpriseID = "ent-404" },
		"projects":                 func(x *medmatch.Event) { x.Projects = 0 },
		"request_ttl":              func(x *medmatch.Event) { x.RequestTTL = "soon" },
	} {
		x := Event("")
		change(x)
		err := s.PutEvent(ctx, organizer, x)
		if me, ok := err.(*medmatch.Error); !ok || me.Code != medmatch.EINVALID || me.Field != field {
			t.Fatalf("%s: got %v; want invalid naming %s", field, err, field)
		}
	}
	// Listing: newest date first; enterprises see published events they are invited to.
	later := Event("evt-later")
	later.Date = "2027-01-05"
	must[struct{}](t)(struct{}{}, s.PutEvent(ctx, organizer, later))
	all := must[[]*medmatch.Event](t)(s.Events(ctx, organizer))
	if len(all) != 2 || all[0].ID != "evt-later" {
		t.Fatalf("organizer lists %d events, first %s", len(all), all[0].ID)
	}
	if list := must[[]*medmatch.Event](t)(s.Events(ctx, ent1)); len(list) != 1 || list[0].ID != e.ID {
		t.Fatalf("ent-1 lists %v; want only the published event", list)
	}
	if list := must[[]*medmatch.Event](t)(s.Events(ctx, anon)); len(list) != 0 {
		t.Fatalf("anonymous lists %d events", len(list))
	}
}
