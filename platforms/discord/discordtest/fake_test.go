package discordtest_test

import (
	"errors"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"refillbot/platforms/discord/discordtest"
)

// to sends discordgo's discord.com requests to the fake.
type to struct{ base *url.URL }

func (t to) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.URL.Scheme, r.URL.Host, r.Host = t.base.Scheme, t.base.Host, ""
	return http.DefaultTransport.RoundTrip(r)
}

// connect opens an unmodified discordgo session on the fake; every
// interaction is passed to on.
func connect(t *testing.T, f *discordtest.Server, on func(*discordgo.Session, *discordgo.Interaction)) *discordgo.Session {
	t.Helper()
	s, err := discordgo.New("Bot " + f.Token())
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(f.URL())
	s.Client = &http.Client{Transport: to{u}, Timeout: 5 * time.Second}
	s.AddHandler(func(s *discordgo.Session, ic *discordgo.InteractionCreate) { on(s, ic.Interaction) })
	if _, err := s.ApplicationCommandBulkOverwrite(f.AppID(), "", []*discordgo.ApplicationCommand{{Name: "ping", Description: "Ping"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := f.WaitGateway(discordtest.Patience, "first heartbeat", func(g discordtest.GatewayStats) bool { return g.Heartbeats > 0 }); err != nil {
		t.Fatal(err)
	}
	return s
}

func code(err error) int {
	var rest *discordgo.RESTError
	if errors.As(err, &rest) && rest.Message != nil {
		return rest.Message.Code
	}
	return 0
}

func reply(s *discordgo.Session, i *discordgo.Interaction) error {
	return s.InteractionRespond(i, &discordgo.InteractionResponse{Type: discordgo.InteractionResponseChannelMessageWithSource,
		Data: &discordgo.InteractionResponseData{Content: "pong", Flags: discordgo.MessageFlagsEphemeral}})
}

// An interaction is answered once, within the window; a second answer and a
// late one are refused with Discord's codes, and the late one counts as a
// failure the user saw.
func TestCallbackRules(t *testing.T) {
	f := discordtest.New(discordtest.Options{CallbackWindow: 300 * time.Millisecond})
	t.Cleanup(f.Close)
	errs := make(chan [2]error, 4)
	slow := make(chan struct{})
	connect(t, f, func(s *discordgo.Session, i *discordgo.Interaction) {
		select {
		case <-slow:
			time.Sleep(500 * time.Millisecond) // past the window, on purpose
			errs <- [2]error{reply(s, i), nil}
		default:
			errs <- [2]error{reply(s, i), reply(s, i)}
		}
	})
	u := f.NewUser("ann", "en-US")
	p, err := u.Slash(f.GuildChannel("g", "c"), "ping")
	if err != nil {
		t.Fatal(err)
	}
	got := <-errs
	if got[0] != nil || code(got[1]) != 40060 {
		t.Errorf("first answer: %v; second: %v (code %d), want ok then 40060", got[0], got[1], code(got[1]))
	}
	if _, err := p.Wait(time.Second); err != nil || p.Failed() {
		t.Errorf("answered interaction: %v, failed=%v", err, p.Failed())
	}
	if m := p.Messages(); len(m) != 1 || !m[0].Ephemeral() || m[0].Text() != "pong" {
		t.Errorf("messages %+v", m)
	}

	close(slow)
	p, _ = u.Slash(f.GuildChannel("g", "c"), "ping")
	got = <-errs
	if code(got[0]) != 10062 || !p.Failed() {
		t.Errorf("late answer: %v (code %d), failed=%v; want 10062 and a failure", got[0], code(got[0]), p.Failed())
	}
}

// discordgo's limiter obeys the fake's 429 and retries; DMs to a user who
// closed them fail with 50007.
func TestRateLimitAndClosedDMs(t *testing.T) {
	f := discordtest.New(discordtest.Options{})
	t.Cleanup(f.Close)
	s := connect(t, f, func(*discordgo.Session, *discordgo.Interaction) {})
	u := f.NewUser("bea", "en-US")
	ch, err := s.UserChannelCreate(u.ID)
	if err != nil {
		t.Fatal(err)
	}
	f.RateLimit(discordtest.Fault{Method: "POST", Path: "/channels/", RetryAfter: 100 * time.Millisecond})
	start := time.Now()
	if _, err := s.ChannelMessageSend(ch.ID, "hello"); err != nil {
		t.Fatal(err)
	}
	if time.Since(start) < 100*time.Millisecond {
		t.Error("discordgo did not wait for retry_after")
	}
	if n := f.Count("POST", "/channels/"); n != 2 {
		t.Errorf("%d sends, want the 429 and its retry", n)
	}
	if dms := u.DMs(); len(dms) != 1 || dms[0].Text() != "hello" {
		t.Errorf("DMs %+v", dms)
	}

	u.CloseDMs(true)
	if _, err := s.ChannelMessageSend(ch.ID, "again"); code(err) != 50007 {
		t.Errorf("send to closed DMs: %v, want 50007", err)
	}
}

// The gateway acknowledges heartbeats at the interval it announces.
func TestHeartbeats(t *testing.T) {
	f := discordtest.New(discordtest.Options{HeartbeatInterval: 50 * time.Millisecond})
	t.Cleanup(f.Close)
	connect(t, f, func(*discordgo.Session, *discordgo.Interaction) {})
	if err := f.WaitGateway(discordtest.Patience, "three heartbeats", func(g discordtest.GatewayStats) bool { return g.Heartbeats >= 3 }); err != nil {
		t.Fatal(err)
	}
}

// A scripted user chooses an item of a string select; the bot receives its
// value and can update the message in place.
func TestSelect(t *testing.T) {
	f := discordtest.New(discordtest.Options{})
	t.Cleanup(f.Close)
	values := make(chan []string, 1)
	connect(t, f, func(s *discordgo.Session, i *discordgo.Interaction) {
		switch i.Type {
		case discordgo.InteractionApplicationCommand:
			zero := 1
			s.InteractionRespond(i, &discordgo.InteractionResponse{Type: discordgo.InteractionResponseChannelMessageWithSource,
				Data: &discordgo.InteractionResponseData{Content: "pick", Components: []discordgo.MessageComponent{
					discordgo.ActionsRow{Components: []discordgo.MessageComponent{discordgo.SelectMenu{
						MenuType: discordgo.StringSelectMenu, CustomID: "sel", MinValues: &zero, MaxValues: 1,
						Options: []discordgo.SelectMenuOption{{Label: "Red", Value: "r"}, {Label: "Blue", Value: "b"}},
					}}},
				}}})
		case discordgo.InteractionMessageComponent:
			values <- i.MessageComponentData().Values
			s.InteractionRespond(i, &discordgo.InteractionResponse{Type: discordgo.InteractionResponseUpdateMessage,
				Data: &discordgo.InteractionResponseData{Content: "picked", Components: []discordgo.MessageComponent{}}})
		}
	})
	u := f.NewUser("cy", "en-US")
	p, err := u.Slash(u.DM(), "ping")
	if err != nil {
		t.Fatal(err)
	}
	m, err := u.AwaitText(0, "pick")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Wait(time.Second); err != nil {
		t.Fatal(err)
	}
	if _, err := u.Choose(m, "Blue"); err != nil {
		t.Fatal(err)
	}
	if v := <-values; len(v) != 1 || v[0] != "b" {
		t.Errorf("values %q, want [b]", v)
	}
	if _, err := u.Await(0, "the updated message", func(x discordtest.Message) bool { return x.ID == m.ID && x.Text() == "picked" }); err != nil {
		t.Fatal(err)
	}
}
