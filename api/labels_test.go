package api

import "testing"

// TestReasonZH: every sentence the planner and the scheduler write is
// shown in Chinese; an unknown one is kept as it is.
func TestReasonZH(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"text 0.83", "文本相关 0.83"},
		{"terms: 帕金森病 dbs", "共同关键词：帕金森病 dbs"},
		{"requested by the enterprise", "企业主动申请"},
		{"the enterprise's quota of 3 meetings is reached", "企业已达 3 场洽谈上限"},
		{"no slot where both the enterprise and the project team are available", "企业与项目团队没有共同的空闲时段"},
		{"every common slot is taken (slot 1: the enterprise has another meeting; slot 2: all 6 tables taken; slot 3: the project team has another meeting)",
			"共同时段均已占满（第1时段企业另有洽谈；第2时段 6 张桌位已满；第3时段项目团队另有洽谈）"},
		{"its slot was removed; no other place", "所在时段已删除；无其他位置"},
		{"status is draft, not published", "状态为草稿，未发布"},
		{"maturity idea is below prototype", "成熟度概念低于样机/样品"},
		{"IP status none is not one of [filed granted]", "知识产权状态无知识产权不在已申请、已授权之列"},
		{"something new", "something new"},
	} {
		if got := reasonZH(c.in); got != c.want {
			t.Errorf("reasonZH(%q) = %q; want %q", c.in, got, c.want)
		}
	}
}
