package main

import (
	"fmt"
	"strings"
	"time"

	"refillbot/conversation"
)

// engine builds the conversation's settings: payment methods, who may pay
// from the account balance and how much a day, and when idle flows expire.
func (c config) engine(sandbox bool) (conversation.Engine, error) {
	e := conversation.Engine{Methods: c.methods(), Sandbox: sandbox}
	if s := strings.TrimSpace(c.IdleTimeout); s != "" && s != "0" {
		d, err := time.ParseDuration(s)
		if err != nil || d < 0 {
			return e, fmt.Errorf("REFILLBOT_IDLE_TIMEOUT %q: use a duration such as 30m or 2h, or 0 to disable", c.IdleTimeout)
		}
		e.IdleAfter = d
	}
	users := map[string]bool{}
	for _, u := range strings.Split(c.BalanceUsers, ",") {
		if u = strings.TrimSpace(u); u == "" {
			continue
		}
		platform, id, ok := strings.Cut(u, ":")
		if !ok || platform == "" || id == "" {
			return e, fmt.Errorf("REFILLBOT_BALANCE_USERS: %q is not platform:user (e.g. telegram:123456)", u)
		}
		users[conversation.SessionKey{Platform: platform, User: id}.String()] = true
	}
	var limit conversation.Amount
	if s := strings.TrimSpace(c.BalanceCap); s != "" {
		a, prob := conversation.ParseAmount(s, "")
		if prob != conversation.AmountOK {
			return e, fmt.Errorf("REFILLBOT_BALANCE_DAILY_CAP %q: use an amount such as 50 or 25.50", c.BalanceCap)
		}
		limit = a
	}
	if len(users) > 0 && limit == 0 {
		return e, fmt.Errorf("REFILLBOT_BALANCE_USERS needs REFILLBOT_BALANCE_DAILY_CAP: balance payments are capped per user and day")
	}
	if len(users) > 0 {
		e.Balance = conversation.BalancePolicy{Users: users, DailyCap: limit}
	}
	return e, nil
}
