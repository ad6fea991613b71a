package matcher

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// ReadLabels reads a labels file: JSON lines {"query", "candidate",
// "grade" 0-3, optional "split" train|test}, naming records by
// external_id or id; blank lines and # comments are skipped. It names the
// line of any problem.
func ReadLabels(r io.Reader) ([]RawLabel, error) {
	var out []RawLabel
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		s := strings.TrimSpace(sc.Text())
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		dec := json.NewDecoder(strings.NewReader(s))
		dec.DisallowUnknownFields()
		var l RawLabel
		if err := dec.Decode(&l); err != nil {
			return nil, fmt.Errorf("line %d: %v", line, err)
		}
		if dec.More() {
			return nil, fmt.Errorf("line %d: more than one JSON object", line)
		}
		switch {
		case l.Query == "":
			return nil, fmt.Errorf("line %d: query is required", line)
		case l.Candidate == "":
			return nil, fmt.Errorf("line %d: candidate is required", line)
		case l.Grade < 0 || l.Grade > 3:
			return nil, fmt.Errorf("line %d: grade is %d; want 0-3", line, l.Grade)
		case l.Split != "" && l.Split != "train" && l.Split != "test":
			return nil, fmt.Errorf("line %d: split is %q; want train or test", line, l.Split)
		}
		out = append(out, l)
	}
	return out, sc.Err()
}
