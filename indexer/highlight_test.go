package indexer

import (
	"strings"
	"testing"

	"github.com/medmatch/medmatch/dict"
)

func TestHighlight(t *testing.T) {
	an, err := dict.Default()
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("背景介绍文字。", 40)
	cases := []struct {
		query, text string
		want        []string
	}{
		{"心肌梗死", "急性心肌梗死的早期识别", []string{"急性<mark>心肌梗死</mark>的早期识别"}},
		// A sub-word match marks the sub-word only.
		{"心肌", "急性心肌梗死的早期识别", []string{"急性<mark>心肌</mark>梗死的早期识别"}},
		// Word and sub-word both asked: the longest wins, marked once.
		{"心肌梗死 梗死", "心肌梗死", []string{"<mark>心肌梗死</mark>"}},
		// Mixed Chinese/Latin and full-width text keep exact offsets.
		{"PD-1 抑制剂", "新型PD-1抑制剂，用于肺癌", []string{"新型<mark>PD-1</mark><mark>抑制剂</mark>，用于肺癌"}},
		{"ct", "基于ＣＴ影像的辅助诊断", []string{"基于<mark>ＣＴ</mark>影像的辅助诊断"}},
		{"mri", "3.0T MRI，扫描", []string{"3.0T <mark>MRI</mark>，扫描"}},
		// HTML in the text is escaped.
		{"支架", "<b>可降解</b>支架 & 球囊", []string{"&lt;b&gt;可降解&lt;/b&gt;<mark>支架</mark> &amp; 球囊"}},
		// Long text: a fragment around the match, cut with ellipses.
		{"脑起搏器", long + "国产脑起搏器已进入临床。" + long, []string{"…背景介绍文字。背景介绍文字。国产<mark>脑起搏器</mark>已进入临床。" + strings.Repeat("背景介绍文字。", 10) + "…"}},
		{"无关词", "心肌梗死", nil},
	}
	for _, c := range cases {
		h := newHighlighter(an, an.Terms(c.query))
		got := h.field(c.text)
		if strings.Join(got, "|") != strings.Join(c.want, "|") {
			t.Errorf("highlight %q in %q = %q; want %q", c.query, trimmed(c.text), got, c.want)
		}
	}
}

func trimmed(s string) string {
	if r := []rune(s); len(r) > 40 {
		return string(r[:40]) + "…"
	}
	return s
}
