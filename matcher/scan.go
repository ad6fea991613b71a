package matcher

import (
	"context"
	"errors"

	"github.com/medmatch/medmatch"
)

// errStop ends an iteration early without an error.
var errStop = errors.New("stop")

// eachRecord calls fn for every record of the kinds, page by page, each
// page read in its own short transaction: a long scan (fitting the model,
// folding the catalogue in) never holds the store open against writers —
// an embedded store cannot grow its file while a read is open. Records
// changed meanwhile are seen as they are when their page is read. fn may
// return errStop to end early.
func eachRecord(ctx context.Context, s medmatch.Store, kinds []medmatch.Kind, fn func(medmatch.Record) error) error {
	for _, k := range kinds {
		opt := medmatch.ListOptions{Limit: medmatch.MaxLimit}
		for {
			if err := ctx.Err(); err != nil {
				return err
			}
			page, err := s.List(ctx, medmatch.System, k, opt)
			if err != nil {
				return err
			}
			for _, r := range page.Records {
				if err := fn(r); errors.Is(err, errStop) {
					return nil
				} else if err != nil {
					return err
				}
			}
			if page.NextCursor == "" {
				break
			}
			opt.Cursor = page.NextCursor
		}
	}
	return nil
}
