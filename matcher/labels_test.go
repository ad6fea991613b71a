package matcher

import (
	"strings"
	"testing"
)

// FuzzReadLabels: any input is read without panicking, and every label
// accepted is well formed.
func FuzzReadLabels(f *testing.F) {
	f.Add(`{"query":"dem-001","candidate":"ach-0001","grade":3,"split":"train"}`)
	f.Add("# comment\n\n{\"query\":\"q\",\"candidate\":\"c\",\"grade\":0}\n")
	f.Add(`{"query":"q","candidate":"c","grade":-1}`)
	f.Add(`{"query":"q","candidate":"c","grade":1.5}`)
	f.Add(`{"query":"q"}{"query":"r"}`)
	f.Add(`{"query":"q","candidate":"c","grade":1}{"query":"x"}`)
	f.Fuzz(func(t *testing.T, in string) {
		labels, err := ReadLabels(strings.NewReader(in))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "line ") && !strings.Contains(err.Error(), "token too long") {
				t.Fatalf("error %q does not name the line", err)
			}
			return
		}
		for _, l := range labels {
			if l.Query == "" || l.Candidate == "" || l.Grade < 0 || l.Grade > 3 || (l.Split != "" && l.Split != "train" && l.Split != "test") {
				t.Fatalf("accepted a bad label %+v", l)
			}
		}
	})
}

func TestReadLabelsOneObjectPerLine(t *testing.T) {
	_, err := ReadLabels(strings.NewReader(`{"query":"q","candidate":"c","grade":1} {"query":"x","candidate":"y","grade":2}`))
	if err == nil || !strings.Contains(err.Error(), "line 1: more than one") {
		t.Fatalf("two objects on a line: %v", err)
	}
}
