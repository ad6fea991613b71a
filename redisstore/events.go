package redisstore

import (
	"context"
	"encoding/json"
	"sort"
	"strconv"

	"github.com/redis/go-redis/v9"

	"github.com/medmatch/medmatch"
)

func (t *txn) exists(k medmatch.Kind, id string) (bool, error) {
	_, ok, err := t.get(t.s.recKey(k, id))
	return ok, err
}

// PutEvent implements medmatch.Store.
func (s *Store) PutEvent(ctx context.Context, v medmatch.Viewer, e *medmatch.Event) error {
	e.Normalize()
	if err := e.Validate(); err != nil {
		return err
	}
	given, err := json.Marshal(e)
	if err != nil {
		return err
	}
	return s.update(ctx, func(t *txn) error {
		*e = medmatch.Event{}
		if err := json.Unmarshal(given, e); err != nil {
			return err
		}
		key := s.Key("events")
		var old *medmatch.Event
		if e.ID != "" {
			data, ok, err := t.hget(key, e.ID)
			if err != nil {
				return err
			}
			if ok {
				old = new(medmatch.Event)
				if err := json.Unmarshal([]byte(data), old); err != nil {
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
		for i, inv := range e.Invited {
			if ok, err := t.exists(medmatch.KindEnterprise, inv.EnterpriseID); err != nil {
				return err
			} else if !ok {
				return medmatch.Errorf(medmatch.EINVALID, "invited["+strconv.Itoa(i)+"].enterprise_id", "no enterprise %q", inv.EnterpriseID)
			}
			for j, r := range inv.Requests {
				if ok, err := t.exists(medmatch.KindAchievement, r.AchievementID); err != nil {
					return err
				} else if !ok {
					return medmatch.Errorf(medmatch.EINVALID, "invited["+strconv.Itoa(i)+"].requests["+strconv.Itoa(j)+"].achievement_id", "no achievement %q", r.AchievementID)
				}
			}
		}
		for i, id := range e.Pins {
			if ok, err := t.exists(medmatch.KindAchievement, id); err != nil {
				return err
			} else if !ok {
				return medmatch.Errorf(medmatch.EINVALID, "pins["+strconv.Itoa(i)+"]", "no achievement %q", id)
			}
		}
		for i, l := range e.Locked {
			if ok, err := t.exists(medmatch.KindAchievement, l.AchievementID); err != nil {
				return err
			} else if !ok {
				return medmatch.Errorf(medmatch.EINVALID, "locked["+strconv.Itoa(i)+"].achievement_id", "no achievement %q", l.AchievementID)
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
		t.hset(key, e.ID, string(data))
		return nil
	})
}

// Event implements medmatch.Store.
func (s *Store) Event(ctx context.Context, v medmatch.Viewer, id string) (*medmatch.Event, error) {
	data, err := s.rdb.HGet(ctx, s.Key("events"), id).Result()
	if err != nil && err != redis.Nil {
		return nil, unavailable(err)
	}
	var e *medmatch.Event
	if err == nil {
		e = new(medmatch.Event)
		if err := json.Unmarshal([]byte(data), e); err != nil {
			return nil, err
		}
	}
	if e == nil || !medmatch.CanReadEvent(v, e) {
		return nil, medmatch.Errorf(medmatch.ENOTFOUND, "id", "no event %q", id)
	}
	return e, nil
}

// Events implements medmatch.Store.
func (s *Store) Events(ctx context.Context, v medmatch.Viewer) ([]*medmatch.Event, error) {
	all, err := s.rdb.HGetAll(ctx, s.Key("events")).Result()
	if err != nil {
		return nil, unavailable(err)
	}
	out := []*medmatch.Event{}
	for _, data := range all {
		e := new(medmatch.Event)
		if err := json.Unmarshal([]byte(data), e); err != nil {
			return nil, err
		}
		if medmatch.CanReadEvent(v, e) {
			out = append(out, e)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Date != out[j].Date {
			return out[i].Date > out[j].Date
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}
