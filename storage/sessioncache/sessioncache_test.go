package sessioncache_test

import (
	"reflect"
	"testing"

	"refillbot/conversation"
	"refillbot/storage/sessioncache"
)

var (
	alice = conversation.SessionKey{Platform: "telegram", User: "alice"}
	bob   = conversation.SessionKey{Platform: "telegram", User: "bob"}
)

func state(query string) conversation.State {
	return conversation.State{V: conversation.SchemaVersion, Flow: conversation.Flow{Query: query,
		Results: []conversation.ProductSummary{{ID: "amazon-us", Name: "Amazon US"}}}}
}

func TestTake(t *testing.T) {
	cases := []struct {
		name   string
		put    bool
		stored string // the bytes the store holds when it reads
		want   bool
	}{
		{"the bytes written come back", true, "written", true},
		{"another writer's bytes are decoded", true, "another replica's", false},
		{"nothing put", false, "written", false},
		{"the session is gone", true, "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := sessioncache.New(0)
			if tc.put {
				c.Put(alice, []byte("written"), state("amazon"))
			}
			st, ok := c.Take(alice, []byte(tc.stored))
			if ok != tc.want {
				t.Fatalf("Take = %v, want %v", ok, tc.want)
			}
			if ok && !reflect.DeepEqual(st, state("amazon")) {
				t.Errorf("Take = %+v, want the state put", st)
			}
			if _, again := c.Take(alice, []byte(tc.stored)); again {
				t.Error("a state was handed out twice: two readers would share it")
			}
		})
	}
}

// What the committer changes after Put, and what the reader changes after
// Take, reaches nobody else.
func TestPutAndTakeShareNothing(t *testing.T) {
	c := sessioncache.New(0)
	mine := state("amazon")
	c.Put(alice, []byte("v1"), mine)
	mine.Results[0].Name = "changed by the committer"
	got, ok := c.Take(alice, []byte("v1"))
	if !ok || got.Results[0].Name != "Amazon US" {
		t.Fatalf("Take = %+v, %v: the committer's later change leaked in", got.Results, ok)
	}
}

func TestAnotherSessionsBytesDoNotMatch(t *testing.T) {
	c := sessioncache.New(0)
	c.Put(alice, []byte("same"), state("alice's"))
	if _, ok := c.Take(bob, []byte("same")); ok {
		t.Fatal("bob was served alice's state")
	}
	if st, ok := c.Take(alice, []byte("same")); !ok || st.Query != "alice's" {
		t.Fatalf("Take(alice) = %q, %v", st.Query, ok)
	}
}

func TestBudgetBoundsTheCache(t *testing.T) {
	c := sessioncache.New(100)
	for i := range 50 {
		c.Put(conversation.SessionKey{Platform: "t", User: string(rune('a' + i))}, make([]byte, 10), state("q"))
	}
	if n := c.Len(); n > 10 {
		t.Errorf("%d sessions of 10 bytes held within 100 bytes", n)
	}
	c.Put(bob, make([]byte, 60), state("outsized"))
	if _, ok := c.Take(bob, make([]byte, 60)); ok {
		t.Error("a session larger than a quarter of the budget was kept")
	}
	// Replacing a session's entry frees the old one's bytes.
	c = sessioncache.New(100)
	for range 20 {
		c.Put(alice, make([]byte, 20), state("q"))
	}
	c.Put(bob, make([]byte, 20), state("q"))
	if c.Len() != 2 {
		t.Errorf("Len = %d after re-putting one session, want 2", c.Len())
	}
}

func TestNilCacheIsOff(t *testing.T) {
	var c *sessioncache.Cache
	c.Put(alice, []byte("x"), state("q"))
	if _, ok := c.Take(alice, []byte("x")); ok {
		t.Fatal("a nil cache served a state")
	}
}
