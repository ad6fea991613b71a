package redisstore

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/medmatch/medmatch"
)

func notFound(k medmatch.Kind, id string) error {
	return medmatch.Errorf(medmatch.ENOTFOUND, "id", "no %s %q", k, id)
}

// Get implements medmatch.Store.
func (s *Store) Get(ctx context.Context, v medmatch.Viewer, k medmatch.Kind, id string) (medmatch.Record, error) {
	if !k.Valid() {
		return nil, medmatch.Errorf(medmatch.EINVALID, "type", "unknown record type %q", k)
	}
	data, err := s.rdb.Get(ctx, s.recKey(k, id)).Result()
	if err == redis.Nil {
		return nil, notFound(k, id)
	} else if err != nil {
		return nil, unavailable(err)
	}
	r, err := decode(k, data)
	if err != nil {
		return nil, err
	}
	if !medmatch.CanRead(v, r) {
		return nil, notFound(k, id)
	}
	return medmatch.Redact(v, r), nil
}

// GetMany implements medmatch.Store.
func (s *Store) GetMany(ctx context.Context, v medmatch.Viewer, refs []medmatch.Ref) ([]medmatch.Record, error) {
	out := make([]medmatch.Record, len(refs))
	var keys []string
	var at []int
	for i, ref := range refs {
		if ref.Kind.Valid() {
			keys = append(keys, s.recKey(ref.Kind, ref.ID))
			at = append(at, i)
		}
	}
	if len(keys) == 0 {
		return out, nil
	}
	vals, err := s.rdb.MGet(ctx, keys...).Result()
	if err != nil {
		return nil, unavailable(err)
	}
	for j, val := range vals {
		str, ok := val.(string)
		if !ok {
			continue
		}
		i := at[j]
		r, err := decode(refs[i].Kind, str)
		if err != nil {
			return nil, err
		}
		if medmatch.CanRead(v, r) {
			out[i] = medmatch.Redact(v, r)
		}
	}
	return out, nil
}

func encodeCursor(id string) string { return base64.RawURLEncoding.EncodeToString([]byte("id:" + id)) }

func decodeCursor(c string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || !strings.HasPrefix(string(b), "id:") {
		return "", medmatch.Errorf(medmatch.EINVALID, "cursor", "is not a cursor from a previous page")
	}
	return string(b[3:]), nil
}

// listBatch is how many ids List and Scan read per round trip.
const listBatch = 500

// List implements medmatch.Store: ids in order from the kind's sorted set,
// records read in batches, those v may not read skipped; Total from the
// counters.
func (s *Store) List(ctx context.Context, v medmatch.Viewer, k medmatch.Kind, opt medmatch.ListOptions) (*medmatch.Page, error) {
	if !k.Valid() {
		return nil, medmatch.Errorf(medmatch.EINVALID, "type", "unknown record type %q", k)
	}
	if err := opt.Validate(); err != nil {
		return nil, err
	}
	after := ""
	if opt.Cursor != "" {
		var err error
		if after, err = decodeCursor(opt.Cursor); err != nil {
			return nil, err
		}
	}
	counts, err := s.rdb.HGetAll(ctx, s.Key("counts")).Result()
	if err != nil {
		return nil, unavailable(err)
	}
	page := &medmatch.Page{Records: []medmatch.Record{}}
	page.Total = medmatch.VisibleTotal(v, k, func(key string) int { return atoi(counts[key]) })
	err = s.eachRecord(ctx, k, after, func(r medmatch.Record) (bool, error) {
		if !medmatch.CanRead(v, r) {
			return true, nil
		}
		if len(page.Records) == opt.Limit {
			page.NextCursor = encodeCursor(page.Records[len(page.Records)-1].Base().ID)
			return false, nil
		}
		page.Records = append(page.Records, medmatch.Redact(v, r))
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	return page, nil
}

// eachRecord calls fn for the records of kind k with ids after after, in
// id order, until fn says stop.
func (s *Store) eachRecord(ctx context.Context, k medmatch.Kind, after string, fn func(medmatch.Record) (bool, error)) error {
	min := "-"
	if after != "" {
		min = "(" + after
	}
	idsKey := s.Key("ids", string(k))
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		ids, err := s.rdb.ZRangeByLex(ctx, idsKey, &redis.ZRangeBy{Min: min, Max: "+", Count: listBatch}).Result()
		if err != nil {
			return unavailable(err)
		}
		if len(ids) == 0 {
			return nil
		}
		keys := make([]string, len(ids))
		for i, id := range ids {
			keys[i] = s.recKey(k, id)
		}
		vals, err := s.rdb.MGet(ctx, keys...).Result()
		if err != nil {
			return unavailable(err)
		}
		for _, val := range vals {
			str, ok := val.(string)
			if !ok {
				continue // deleted since the ids were read
			}
			r, err := decode(k, str)
			if err != nil {
				return err
			}
			if more, err := fn(r); err != nil || !more {
				return err
			}
		}
		if len(ids) < listBatch {
			return nil
		}
		min = "(" + ids[len(ids)-1]
	}
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			return n
		}
		n = n*10 + int(c-'0')
	}
	return n
}

// Counts implements medmatch.Store.
func (s *Store) Counts(ctx context.Context) (map[medmatch.Kind]int, error) {
	counts, err := s.rdb.HGetAll(ctx, s.Key("counts")).Result()
	if err != nil {
		return nil, unavailable(err)
	}
	out := make(map[medmatch.Kind]int)
	for _, k := range medmatch.Kinds {
		out[k] = atoi(counts[string(k)+"|all"])
	}
	return out, nil
}

// reader reads a transaction for medmatch.PrepareWrite.
type reader struct{ t *txn }

func (r reader) Record(k medmatch.Kind, id string) (medmatch.Record, error) {
	data, ok, err := r.t.get(r.t.s.recKey(k, id))
	if err != nil || !ok {
		return nil, err
	}
	return decode(k, data)
}

func (r reader) ExternalID(k medmatch.Kind, ext string) (string, error) {
	id, _, err := r.t.hget(r.t.s.Key("ext", string(k)), ext)
	return id, err
}

// put checks r, queues its writes and a change, and returns the action.
func (t *txn) put(v medmatch.Viewer, r medmatch.Record, mode medmatch.WriteMode) (string, error) {
	s := t.s
	now := s.now().UTC()
	old, action, err := medmatch.PrepareWrite(reader{t}, v, s.tax, r, mode, now)
	if err != nil {
		return "", err
	}
	k, m := r.Kind(), r.Base()
	ext := s.Key("ext", string(k))
	if old != nil {
		if oe := old.Base().ExternalID; oe != "" && oe != m.ExternalID {
			t.hdel(ext, oe)
		}
		t.unindex(old)
	}
	if m.ExternalID != "" {
		t.hset(ext, m.ExternalID, m.ID)
	}
	data, err := json.Marshal(r)
	if err != nil {
		return "", fmt.Errorf("encode %s: %w", k, err)
	}
	t.set(s.recKey(k, m.ID), string(data))
	idsKey, id := s.Key("ids", string(k)), m.ID
	t.queue(func(p redis.Pipeliner) { p.ZAdd(t.ctx, idsKey, redis.Z{Member: id}) })
	t.index(r)
	return action, t.appendChange(medmatch.Change{Kind: k, ID: m.ID, Op: medmatch.OpPut, At: now})
}

// index adds r's counters and references; unindex removes them.
func (t *txn) index(r medmatch.Record)   { t.bump(r, 1) }
func (t *txn) unindex(r medmatch.Record) { t.bump(r, -1) }

func (t *txn) bump(r medmatch.Record, d int64) {
	// Every write, add or remove, counts for the cache's generations.
	t.hincr(t.s.Key("gen"), string(r.Kind()), 1)
	if dm, ok := r.(*medmatch.Demand); ok {
		t.hincr(t.s.Key("refs"), dm.EnterpriseID, d)
	}
	for _, key := range medmatch.CountKeys(r) {
		t.hincr(t.s.Key("counts"), key, d)
	}
}

// Create implements medmatch.Store.
func (s *Store) Create(ctx context.Context, v medmatch.Viewer, r medmatch.Record) (medmatch.Record, error) {
	return s.write(ctx, v, r, medmatch.WriteCreate)
}

// Update implements medmatch.Store.
func (s *Store) Update(ctx context.Context, v medmatch.Viewer, r medmatch.Record) (medmatch.Record, error) {
	if r.Base().ID == "" {
		return nil, medmatch.Errorf(medmatch.EINVALID, "id", "is required to update")
	}
	return s.write(ctx, v, r, medmatch.WriteUpdate)
}

func (s *Store) write(ctx context.Context, v medmatch.Viewer, r medmatch.Record, mode medmatch.WriteMode) (medmatch.Record, error) {
	// A retried transaction starts again from the record as given.
	given, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	err = s.update(ctx, func(t *txn) error {
		if err := reset(r, given); err != nil {
			return err
		}
		_, err := t.put(v, r, mode)
		return err
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// Delete implements medmatch.Store.
func (s *Store) Delete(ctx context.Context, v medmatch.Viewer, k medmatch.Kind, id string) error {
	if !k.Valid() {
		return medmatch.Errorf(medmatch.EINVALID, "type", "unknown record type %q", k)
	}
	return s.update(ctx, func(t *txn) error {
		old, err := reader{t}.Record(k, id)
		if err != nil {
			return err
		}
		if old == nil || (!v.Anonymous() && !medmatch.CanRead(v, old)) {
			return notFound(k, id)
		}
		if err := medmatch.CanWrite(v, old, nil); err != nil {
			return err
		}
		if k == medmatch.KindEnterprise {
			n, err := t.hcount(s.Key("refs"), id)
			if err != nil {
				return err
			}
			if n > 0 {
				return medmatch.Errorf(medmatch.ECONFLICT, "id", "enterprise %q still has %d demands; delete them first", id, n)
			}
		}
		if ext := old.Base().ExternalID; ext != "" {
			t.hdel(s.Key("ext", string(k)), ext)
		}
		t.unindex(old)
		t.del(s.recKey(k, id))
		idsKey := s.Key("ids", string(k))
		t.queue(func(p redis.Pipeliner) { p.ZRem(t.ctx, idsKey, id) })
		return t.appendChange(medmatch.Change{Kind: k, ID: id, Op: medmatch.OpDelete, At: s.now().UTC()})
	})
}

// Import implements medmatch.Store: every record in one transaction, with
// the embedded store's all-or-nothing rules (see medmatch.ImportOptions).
func (s *Store) Import(ctx context.Context, v medmatch.Viewer, recs []medmatch.Record, opt medmatch.ImportOptions) (*medmatch.ImportResult, error) {
	if v.Anonymous() {
		return nil, medmatch.CanWrite(v, nil, nil)
	}
	// Each attempt starts from the records as given (see reset).
	givens := make([][]byte, len(recs))
	at := make(map[medmatch.Record]int, len(recs))
	for i, r := range recs {
		at[r] = i
		b, err := json.Marshal(r)
		if err != nil {
			return nil, err
		}
		givens[i] = b
	}
	var res *medmatch.ImportResult
	var given []string
	err := s.update(ctx, func(t *txn) error {
		if opt.IfEmpty {
			for _, k := range medmatch.Kinds {
				n, err := t.hcount(s.Key("counts"), string(k)+"|all")
				if err != nil {
					return err
				}
				if n > 0 {
					res = &medmatch.ImportResult{DryRun: opt.DryRun, Skipped: true}
					return errRollback
				}
			}
		}
		var err error
		res, given, err = medmatch.ImportRows(ctx, recs, opt, func(r medmatch.Record) (string, error) {
			if err := reset(r, givens[at[r]]); err != nil {
				return "", err
			}
			return t.put(v, r, medmatch.WriteUpsert)
		})
		if err != nil {
			return err
		}
		head, _, err := t.get(s.Key("seq"))
		if err != nil {
			return err
		}
		res.Seq = uint64(atoi(head))
		if !res.Commit(opt) {
			return errRollback
		}
		return nil
	})
	if errors.Is(err, errRollback) {
		if !res.Skipped {
			res.RolledBack(given)
		}
		return res, nil
	}
	if err != nil {
		return nil, err
	}
	return res, nil
}

// reset sets r back to the record given (its JSON), so that a transaction
// that runs again starts from what the caller passed, not from what the
// previous attempt filled in.
func reset(r medmatch.Record, given []byte) error {
	fresh := medmatch.NewRecord(r.Kind())
	if err := json.Unmarshal(given, fresh); err != nil {
		return err
	}
	reflect.ValueOf(r).Elem().Set(reflect.ValueOf(fresh).Elem())
	return nil
}
