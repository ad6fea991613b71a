package bolt

import (
	"context"
	"encoding/json"
	"sort"

	bbolt "go.etcd.io/bbolt"

	"github.com/medmatch/medmatch"
)

var bucketEvents = []byte("events") // id → Event JSON

// PutEvent implements medmatch.Store.
func (s *Store) PutEvent(ctx context.Context, v medmatch.Viewer, e *medmatch.Event) error {
	e.Normalize()
	if err := e.Validate(); err != nil {
		return err
	}
	return s.update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketEvents)
		var old *medmatch.Event
		if e.ID != "" {
			if data := b.Get([]byte(e.ID)); data != nil {
				old = new(medmatch.Event)
				if err := json.Unmarshal(data, old); err != nil {
					return err
				}
			}
		}
		if old != nil && !medmatch.CanReadEvent(v, old) {
			old = nil // as if absent: its existence does not leak
			if e.Version > 0 {
				return medmatch.Errorf(medmatch.ENOTFOUND, "id", "no event %q", e.ID)
			}
		}
		switch {
		case old == nil && e.Version > 0:
			return medmatch.Errorf(medmatch.ENOTFOUND, "id", "no event %q", e.ID)
		case old != nil && e.Version == 0:
			return medmatch.Errorf(medmatch.ECONFLICT, "id", "event %q exists; send its version to replace it", e.ID)
		case old != nil && e.Version != old.Version:
			return medmatch.Errorf(medmatch.ECONFLICT, "version", "event %q is at version %d, not %d: reload and retry", e.ID, old.Version, e.Version)
		}
		if err := medmatch.CanWriteEvent(v, old, e); err != nil {
			return err
		}
		// Invited enterprises, requested, pinned and locked projects must exist.
		achs := tx.Bucket(recBucket(medmatch.KindAchievement))
		for i, inv := range e.Invited {
			if tx.Bucket(recBucket(medmatch.KindEnterprise)).Get([]byte(inv.EnterpriseID)) == nil {
				return medmatch.Errorf(medmatch.EINVALID, "invited["+itoa(i)+"].enterprise_id", "no enterprise %q", inv.EnterpriseID)
			}
			for j, r := range inv.Requests {
				if achs.Get([]byte(r.AchievementID)) == nil {
					return medmatch.Errorf(medmatch.EINVALID, "invited["+itoa(i)+"].requests["+itoa(j)+"].achievement_id", "no achievement %q", r.AchievementID)
				}
			}
		}
		for i, id := range e.Pins {
			if achs.Get([]byte(id)) == nil {
				return medmatch.Errorf(medmatch.EINVALID, "pins["+itoa(i)+"]", "no achievement %q", id)
			}
		}
		for i, l := range e.Locked {
			if achs.Get([]byte(l.AchievementID)) == nil {
				return medmatch.Errorf(medmatch.EINVALID, "locked["+itoa(i)+"].achievement_id", "no achievement %q", l.AchievementID)
			}
		}
		now := s.now().UTC()
		if old == nil {
			if e.ID == "" {
				e.ID = medmatch.NewEventID(now)
			}
			e.CreatedAt = now
		} else {
			e.CreatedAt = old.CreatedAt
		}
		e.Version++
		e.UpdatedAt = now
		data, err := json.Marshal(e)
		if err != nil {
			return err
		}
		return b.Put([]byte(e.ID), data)
	})
}

func itoa(i int) string {
	b, _ := json.Marshal(i)
	return string(b)
}

// Event implements medmatch.Store.
func (s *Store) Event(ctx context.Context, v medmatch.Viewer, id string) (*medmatch.Event, error) {
	var e *medmatch.Event
	err := s.db.View(func(tx *bbolt.Tx) error {
		data := tx.Bucket(bucketEvents).Get([]byte(id))
		if data != nil {
			e = new(medmatch.Event)
			if err := json.Unmarshal(data, e); err != nil {
				return err
			}
		}
		if e == nil || !medmatch.CanReadEvent(v, e) {
			e = nil
			return medmatch.Errorf(medmatch.ENOTFOUND, "id", "no event %q", id)
		}
		return nil
	})
	return e, err
}

// Events implements medmatch.Store.
func (s *Store) Events(ctx context.Context, v medmatch.Viewer) ([]*medmatch.Event, error) {
	out := []*medmatch.Event{}
	err := s.db.View(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketEvents).ForEach(func(_, data []byte) error {
			e := new(medmatch.Event)
			if err := json.Unmarshal(data, e); err != nil {
				return err
			}
			if medmatch.CanReadEvent(v, e) {
				out = append(out, e)
			}
			return nil
		})
	})
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Date != out[j].Date {
			return out[i].Date > out[j].Date
		}
		return out[i].ID < out[j].ID
	})
	return out, err
}
