package discordtest

import (
	"bytes"
	"compress/zlib"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// gateway is the fake's one bot session. Its fields are guarded by Server.mu;
// wmu orders writes to the connection, so dispatches leave in sequence order.
type gateway struct {
	s   *Server
	wmu sync.Mutex

	conn    *websocket.Conn // the connection that identified or resumed
	all     []*websocket.Conn
	session string
	seq     int64
	log     []frame // every dispatch of the session, for resumes

	identifies, resumes, heartbeats, drops int
}

type frame struct {
	seq  int64
	data []byte
}

var upgrader = websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}

func (g *gateway) url() string {
	return "ws" + strings.TrimPrefix(g.s.srv.URL, "http") + "/gateway"
}

type gwMsg struct {
	Op int             `json:"op"`
	D  json.RawMessage `json:"d"`
	S  *int64          `json:"s,omitempty"`
	T  string          `json:"t,omitempty"`
}

func (g *gateway) serve(w http.ResponseWriter, r *http.Request) {
	c, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	s := g.s
	s.mu.Lock()
	g.all = append(g.all, c)
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		if g.conn == c {
			g.conn = nil
		}
		s.notify()
		s.mu.Unlock()
		c.Close()
	}()

	hello, _ := json.Marshal(map[string]any{"op": 10, "d": map[string]any{"heartbeat_interval": s.opts.HeartbeatInterval.Milliseconds()}})
	if !g.write(c, websocket.TextMessage, hello) {
		return
	}
	for {
		_, data, err := c.ReadMessage()
		if err != nil {
			return
		}
		var m gwMsg
		if err := json.Unmarshal(data, &m); err != nil {
			c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(4002, "Error while decoding payload."), time.Now().Add(time.Second))
			return
		}
		switch m.Op {
		case 1:
			s.mu.Lock()
			g.heartbeats++
			s.notify()
			s.mu.Unlock()
			if !g.write(c, websocket.TextMessage, []byte(`{"op":11}`)) {
				return
			}
		case 2:
			if !g.identify(c, m.D) {
				return
			}
		case 6:
			if !g.resume(c, m.D) {
				return
			}
		}
	}
}

func (g *gateway) write(c *websocket.Conn, kind int, data []byte) bool {
	g.wmu.Lock()
	defer g.wmu.Unlock()
	return c.WriteMessage(kind, data) == nil
}

func (g *gateway) tokenOK(tok string) bool {
	return strings.TrimPrefix(tok, "Bot ") == g.s.opts.Token
}

func (g *gateway) identify(c *websocket.Conn, raw json.RawMessage) bool {
	var d struct {
		Token    string `json:"token"`
		Compress bool   `json:"compress"`
	}
	_ = json.Unmarshal(raw, &d)
	s := g.s
	if !g.tokenOK(d.Token) {
		c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(4004, "Authentication failed."), time.Now().Add(time.Second))
		return false
	}
	g.wmu.Lock()
	defer g.wmu.Unlock()
	s.mu.Lock()
	g.identifies++
	g.session = s.id()
	g.seq, g.log = 0, nil
	g.conn = c
	data := g.frameLocked("READY", map[string]any{
		"v": 9, "session_id": g.session, "resume_gateway_url": g.url(),
		"user":        map[string]any{"id": s.opts.BotUserID, "username": "refillbot", "bot": true},
		"guilds":      []any{},
		"application": map[string]any{"id": s.opts.AppID, "flags": 0},
	})
	s.notify()
	s.mu.Unlock()
	if d.Compress {
		var b bytes.Buffer
		z := zlib.NewWriter(&b)
		z.Write(data)
		z.Close()
		return c.WriteMessage(websocket.BinaryMessage, b.Bytes()) == nil
	}
	return c.WriteMessage(websocket.TextMessage, data) == nil
}

func (g *gateway) resume(c *websocket.Conn, raw json.RawMessage) bool {
	var d struct {
		Token     string `json:"token"`
		SessionID string `json:"session_id"`
		Seq       int64  `json:"seq"`
	}
	_ = json.Unmarshal(raw, &d)
	s := g.s
	g.wmu.Lock()
	defer g.wmu.Unlock()
	s.mu.Lock()
	if !g.tokenOK(d.Token) || d.SessionID == "" || d.SessionID != g.session {
		s.mu.Unlock()
		return c.WriteMessage(websocket.TextMessage, []byte(`{"op":9,"d":false}`)) == nil
	}
	var replay [][]byte
	for _, f := range g.log {
		if f.seq > d.Seq {
			replay = append(replay, f.data)
		}
	}
	g.resumes++
	g.conn = c
	replay = append(replay, g.frameLocked("RESUMED", map[string]any{}))
	s.notify()
	s.mu.Unlock()
	for _, data := range replay {
		if c.WriteMessage(websocket.TextMessage, data) != nil {
			return false
		}
	}
	return true
}

// frameLocked numbers a dispatch and keeps it for resumes.
func (g *gateway) frameLocked(t string, d any) []byte {
	g.seq++
	data, _ := json.Marshal(map[string]any{"op": 0, "t": t, "s": g.seq, "d": d})
	g.log = append(g.log, frame{g.seq, data})
	return data
}

// dispatch sends an event to the bot, or keeps it for its resume when the
// connection is down.
func (g *gateway) dispatch(t string, d any) {
	g.wmu.Lock()
	defer g.wmu.Unlock()
	s := g.s
	s.mu.Lock()
	data := g.frameLocked(t, d)
	c := g.conn
	s.mu.Unlock()
	if c != nil {
		c.WriteMessage(websocket.TextMessage, data) // a failure is repaired by the resume
	}
}

func (g *gateway) closeAll() {
	g.s.mu.Lock()
	all := g.all
	g.all, g.conn = nil, nil
	g.s.mu.Unlock()
	for _, c := range all {
		c.Close()
	}
}

// Drop cuts the bot's gateway connection without a close frame, as a network
// failure would. Dispatches made until the bot resumes are replayed then.
func (s *Server) Drop() {
	s.mu.Lock()
	c := s.gw.conn
	s.gw.conn = nil
	if c != nil {
		s.gw.drops++
	}
	s.notify()
	s.mu.Unlock()
	if c != nil {
		c.UnderlyingConn().Close()
	}
}

// GatewayStats reports the gateway's history.
type GatewayStats struct {
	Identifies, Resumes, Heartbeats, Drops int
	Connected                              bool
}

// Gateway returns the gateway's history so far.
func (s *Server) Gateway() GatewayStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.gw.statsLocked()
}

func (g *gateway) statsLocked() GatewayStats {
	return GatewayStats{Identifies: g.identifies, Resumes: g.resumes, Heartbeats: g.heartbeats, Drops: g.drops, Connected: g.conn != nil}
}

// WaitGateway waits until cond holds for the gateway's history.
func (s *Server) WaitGateway(timeout time.Duration, what string, cond func(GatewayStats) bool) error {
	return s.wait(timeout, what, func() bool { return cond(s.gw.statsLocked()) })
}
