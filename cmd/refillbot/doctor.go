package main

// refillbot doctor: one line per check, with what to do when it fails, so a
// new shop owner learns exactly what is misconfigured. It reads the same
// flags and environment as the bot, changes nothing (it creates no database
// and no key file), and exits 1 when any check fails.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"refillbot/bitrefill"
	"refillbot/bot"
	"refillbot/platforms/telegram"
	"refillbot/storage"
)

// errChecksFailed is doctor's result when a check failed; the lines above it
// already said which and what to do.
var errChecksFailed = errors.New("doctor: some checks failed (see the lines above)")

type verdict string

const (
	pass verdict = "ok  "
	fail verdict = "FAIL"
	note verdict = "note" // not a failure, but worth knowing
)

type doctor struct {
	out    io.Writer
	failed int
	http   *http.Client
}

func (d *doctor) line(v verdict, check, msg string) {
	if v == fail {
		d.failed++
	}
	fmt.Fprintf(d.out, "%s  %-14s %s\n", v, check, msg)
}

func runDoctor(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	d := &doctor{out: stdout, http: &http.Client{Timeout: 10 * time.Second}}
	cfg, err := parseConfig(args, getenv, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		d.line(fail, "configuration", err.Error()+" — fix this setting (refillbot -help lists them all)")
		return errChecksFailed
	}
	d.line(pass, "configuration", "settings parse and agree with each other")
	d.database(cfg)
	d.bitrefill(ctx, cfg)
	d.telegram(ctx, cfg)
	d.discord(ctx, cfg)
	d.publicURL(ctx, cfg)
	d.running(ctx, cfg)
	if d.failed > 0 {
		return errChecksFailed
	}
	fmt.Fprintln(stdout, "all checks passed")
	return nil
}

// database checks the file, the key and that the records open with it,
// without creating either.
func (d *doctor) database(cfg config) {
	keyFile := cfg.DB + storage.KeyFileSuffix
	if cfg.SecretKey != "" {
		if _, err := storage.ParseKey(cfg.SecretKey); err != nil {
			d.line(fail, "key", "REFILLBOT_SECRET_KEY "+err.Error())
			return
		}
	}
	_, dbErr := os.Stat(cfg.DB)
	_, keyErr := os.Stat(keyFile)
	if errors.Is(dbErr, os.ErrNotExist) {
		dir := filepath.Dir(cfg.DB)
		if err := writable(dir); err != nil {
			d.line(fail, "database", fmt.Sprintf("%s does not exist and %s is not writable (%v): give the bot a writable directory (REFILLBOT_DB)", cfg.DB, dir, err))
			return
		}
		d.line(pass, "database", cfg.DB+" will be created at first start")
		if cfg.SecretKey == "" {
			d.line(note, "key", "a key file "+keyFile+" will be created beside it: back it up apart from the database")
		}
		return
	}
	if dbErr != nil {
		d.line(fail, "database", fmt.Sprintf("%s: %v", cfg.DB, dbErr))
		return
	}
	if cfg.SecretKey == "" && keyErr != nil {
		d.line(fail, "key", fmt.Sprintf("the database exists but its key file %s is missing: restore the key file, or set REFILLBOT_SECRET_KEY to the key it was created with", keyFile))
		return
	}
	key, source, err := storage.LoadKey(cfg.DB, cfg.SecretKey) // the file exists: nothing is created
	if err != nil {
		d.line(fail, "key", err.Error())
		return
	}
	st, err := storage.Open(cfg.DB, storage.Options{Timeout: time.Second, Key: key})
	switch {
	case errors.Is(err, storage.ErrLocked):
		d.line(note, "database", cfg.DB+" is in use by a running refillbot: its key was accepted when that bot started; /readyz on REFILLBOT_METRICS_LISTEN tells whether it is healthy")
		return
	case errors.Is(err, storage.ErrWrongKey):
		d.line(fail, "key", fmt.Sprintf("the key from %s does not open %s: set REFILLBOT_SECRET_KEY (or the key file) to the key the database was created with", source, cfg.DB))
		return
	case err != nil:
		d.line(fail, "database", err.Error()+": restore the newest backup (refillbot restore FILE)")
		return
	}
	defer st.Close()
	if err := st.Ping(); err != nil {
		d.line(fail, "database", err.Error()+": restore the newest backup (refillbot restore FILE)")
		return
	}
	d.line(pass, "database", cfg.DB+" opens with the key from "+source)
}

func writable(dir string) error {
	f, err := os.CreateTemp(dir, ".refillbot-doctor-*")
	if err != nil {
		return err
	}
	f.Close()
	return os.Remove(f.Name())
}

// bitrefill checks the credentials with /ping, then reads the balance and
// the request budget left (two requests: well inside any limit).
func (d *doctor) bitrefill(ctx context.Context, cfg config) {
	if cfg.sandbox() {
		d.line(pass, "bitrefill", "no credentials: the SANDBOX runs, nothing costs real money (set BITREFILL_API_KEY, or BITREFILL_API_ID and BITREFILL_API_SECRET, to sell for real)")
		return
	}
	c, err := bitrefill.New(bitrefill.Config{BaseURL: cfg.APIURL, APIKey: cfg.APIKey, APIID: cfg.APIID, APISecret: cfg.APISecret, MaxRetries: -1, HTTPClient: d.http})
	if err != nil {
		d.line(fail, "bitrefill", err.Error())
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	var be *bitrefill.Error
	if err := c.Ping(ctx); err != nil {
		switch {
		case errors.As(err, &be) && (be.Status == http.StatusUnauthorized || be.Status == http.StatusForbidden):
			d.line(fail, "bitrefill", fmt.Sprintf("%s refused the credentials (%d): check BITREFILL_API_KEY, or BITREFILL_API_ID and BITREFILL_API_SECRET", cfg.APIURL, be.Status))
		case errors.As(err, &be) && be.Status == http.StatusTooManyRequests:
			d.line(fail, "bitrefill", fmt.Sprintf("%s answers 429: the request budget is spent; wait %s, or ask Bitrefill for higher limits", cfg.APIURL, be.RetryAfter))
		case errors.As(err, &be) && be.Status != 0:
			d.line(fail, "bitrefill", fmt.Sprintf("%s answered %d: check BITREFILL_API_URL (it includes /v2)", cfg.APIURL, be.Status))
		default:
			d.line(fail, "bitrefill", fmt.Sprintf("cannot reach %s: check BITREFILL_API_URL and this machine's network", cfg.APIURL))
		}
		return
	}
	d.line(pass, "bitrefill", "credentials accepted by "+cfg.APIURL)
	b, err := c.Balance(ctx)
	if err != nil {
		d.line(fail, "balance", "cannot read the account balance: "+err.Error())
		return
	}
	d.line(pass, "balance", b.Amount.String()+" "+b.Currency)
	if rl := c.RateLimit(); rl.Limit > 0 {
		msg := fmt.Sprintf("%d of %d requests left", rl.Remaining, rl.Limit)
		if !rl.Reset.IsZero() {
			msg += " until " + rl.Reset.UTC().Format("15:04:05 UTC")
		}
		d.line(pass, "limits", msg)
	}
}

// telegram asks getMe with the token. The token is never printed, and the
// URL that carries it never reaches an error line.
func (d *doctor) telegram(ctx context.Context, cfg config) {
	if cfg.TelegramToken == "" {
		return
	}
	var me struct {
		OK     bool `json:"ok"`
		Result struct {
			Username string `json:"username"`
		} `json:"result"`
	}
	status, err := d.getJSON(ctx, strings.TrimRight(cfg.TelegramURL, "/")+"/bot"+cfg.TelegramToken+"/getMe", nil, &me)
	switch {
	case err != nil:
		d.line(fail, "telegram", fmt.Sprintf("cannot reach %s: check TELEGRAM_API_URL and this machine's network", cfg.TelegramURL))
	case status == http.StatusUnauthorized || status == http.StatusNotFound:
		d.line(fail, "telegram", "TELEGRAM_BOT_TOKEN was refused (getMe: "+http.StatusText(status)+"): copy the token again from @BotFather")
	case status != http.StatusOK || !me.OK:
		d.line(fail, "telegram", fmt.Sprintf("getMe answered %d: check TELEGRAM_API_URL", status))
	default:
		d.line(pass, "telegram", "token accepted: @"+me.Result.Username+" ("+cfg.TelegramMode+")")
	}
}

// discord asks /users/@me with the token.
func (d *doctor) discord(ctx context.Context, cfg config) {
	if cfg.DiscordToken == "" {
		return
	}
	var me struct {
		ID       string `json:"id"`
		Username string `json:"username"`
	}
	status, err := d.getJSON(ctx, strings.TrimRight(cfg.DiscordURL, "/")+"/api/v9/users/@me", http.Header{"Authorization": {"Bot " + cfg.DiscordToken}}, &me)
	switch {
	case err != nil:
		d.line(fail, "discord", fmt.Sprintf("cannot reach %s: check DISCORD_API_URL and this machine's network", cfg.DiscordURL))
	case status == http.StatusUnauthorized:
		d.line(fail, "discord", "DISCORD_BOT_TOKEN was refused (401): reset the token in the developer portal (Bot tab) and set it again")
	case status != http.StatusOK:
		d.line(fail, "discord", fmt.Sprintf("/users/@me answered %d: check DISCORD_API_URL", status))
	case cfg.DiscordAppID == "":
		d.line(fail, "discord", "DISCORD_APP_ID is missing: copy the application id from the developer portal")
	default:
		d.line(pass, "discord", "token accepted: "+me.Username)
	}
}

// getJSON GETs url and decodes a JSON answer; errors never quote the URL
// (it may carry a token).
func (d *doctor) getJSON(ctx context.Context, url string, h http.Header, out any) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, errors.New("bad URL")
	}
	for k, v := range h {
		req.Header[k] = v
	}
	res, err := d.http.Do(req)
	if err != nil {
		return 0, errors.New("request failed")
	}
	defer res.Body.Close()
	_ = json.NewDecoder(io.LimitReader(res.Body, 1<<20)).Decode(out)
	return res.StatusCode, nil
}

// publicURL checks that REFILLBOT_PUBLIC_URL reaches the webhook paths on
// this machine. With the bot stopped, doctor listens on REFILLBOT_LISTEN
// itself and expects a random token back through the public URL; with the
// bot running (the address is taken), it asks the bot's /healthz through
// the public URL.
func (d *doctor) publicURL(ctx context.Context, cfg config) {
	if cfg.PublicURL == "" {
		if cfg.Listen == "" {
			d.line(note, "public URL", "not set: invoices are watched by polling only (set REFILLBOT_LISTEN and REFILLBOT_PUBLIC_URL for Bitrefill webhooks)")
		}
		return
	}
	base := strings.TrimRight(cfg.PublicURL, "/")
	paths := []string{bot.WebhookPath + "doctor-probe"}
	if cfg.TelegramMode == "webhook" {
		paths = append(paths, telegram.WebhookPath)
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		// The running bot holds the address: it must answer through the URL.
		status, err := d.getJSON(ctx, base+"/healthz", nil, new(any))
		if err != nil || status != http.StatusOK {
			d.line(fail, "public URL", fmt.Sprintf("%s/healthz does not reach the running bot (%s): point the reverse proxy at REFILLBOT_LISTEN (%s)", base, describe(status, err), cfg.Listen))
			return
		}
		d.line(pass, "public URL", base+" reaches the running bot")
		return
	}
	probe := make([]byte, 16)
	rand.Read(probe)
	token := hex.EncodeToString(probe)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, token)
	}), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()
	for _, p := range paths {
		method := http.MethodPost
		req, _ := http.NewRequestWithContext(ctx, method, base+p, strings.NewReader("{}"))
		res, err := d.http.Do(req)
		if err != nil {
			d.line(fail, "public URL", fmt.Sprintf("POST %s%s failed: the URL must reach this machine's REFILLBOT_LISTEN (%s) from outside", base, p, cfg.Listen))
			return
		}
		body, _ := io.ReadAll(io.LimitReader(res.Body, 1024))
		res.Body.Close()
		if string(body) != token {
			d.line(fail, "public URL", fmt.Sprintf("POST %s%s answered %d but not from this machine's REFILLBOT_LISTEN (%s): forward %s and %s to it", base, p, res.StatusCode, cfg.Listen, bot.WebhookPath, telegram.WebhookPath))
			return
		}
	}
	d.line(pass, "public URL", base+" reaches the webhook paths on "+cfg.Listen)
}

func describe(status int, err error) string {
	if err != nil {
		return "no answer"
	}
	return fmt.Sprintf("answered %d", status)
}

// running asks a running bot's /readyz, when a metrics address is set.
func (d *doctor) running(ctx context.Context, cfg config) {
	if cfg.MetricsListen == "" {
		return
	}
	u := localURL(cfg.MetricsListen, "/readyz")
	status, err := d.getJSON(ctx, u, nil, new(any))
	switch {
	case err != nil:
		d.line(note, "running bot", "no bot answers on "+cfg.MetricsListen+" (fine if it is stopped)")
	case status != http.StatusOK:
		d.line(fail, "running bot", fmt.Sprintf("the running bot is not ready (%s answered %d): its store or Bitrefill is unreachable; see its log", u, status))
	default:
		d.line(pass, "running bot", "ready ("+u+")")
	}
}
