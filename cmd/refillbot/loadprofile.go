//go:build loadprofile

package main

// Only in binaries built with -tags loadprofile (the load benchmark's
// profile= setting builds one): the harness profiles the measured window
// of the real process. REFILLBOT_LOADPROFILE_ADDR is where it listens,
// REFILLBOT_LOAD_CPUPROFILE the CPU profile's file; heap profiles go beside
// it (<file>.heap-start, <file>.heap). Never part of a release build, so
// not part of the configuration contract.

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"sort"
	"strings"
	"sync"
	"time"
)

func init() {
	addr, cpuPath := os.Getenv("REFILLBOT_LOADPROFILE_ADDR"), os.Getenv("REFILLBOT_LOAD_CPUPROFILE")
	if addr == "" || cpuPath == "" {
		return
	}
	// Fine enough to see where a few MB go; costs some CPU, so compare
	// CPU numbers from runs without profile=.
	runtime.MemProfileRate = 16 << 10
	var (
		mu  sync.Mutex
		cpu *os.File
	)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /cpu/start", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		f, err := os.Create(cpuPath)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		cpu = f
	})
	mux.HandleFunc("POST /cpu/stop", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if cpu != nil {
			pprof.StopCPUProfile()
			cpu.Close()
			cpu = nil
		}
	})
	// The heap as it is now (live objects after a GC) and everything
	// allocated since the start, into <cpu profile>.<name>.
	mux.HandleFunc("POST /heap/{name}", func(w http.ResponseWriter, r *http.Request) {
		runtime.GC()
		if err := writeProfile("heap", 0, cpuPath+"."+filepath.Base(r.PathValue("name"))); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte(memSummary(&m)))
	})
	mux.HandleFunc("POST /goroutines/{name}", func(w http.ResponseWriter, r *http.Request) {
		if err := writeProfile("goroutine", 1, cpuPath+"."+filepath.Base(r.PathValue("name"))); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})
	peak := samplePeak()
	mux.HandleFunc("POST /peak", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte(peak()))
	})
	go http.ListenAndServe(addr, mux)
}

// samplePeak reads the runtime's memory classes every few milliseconds and
// keeps the sample where the most was held from the OS (everything mapped
// less what was released): what the anonymous part of the peak RSS was
// made of. The returned func reports that sample and resets it.
func samplePeak() func() string {
	descs := metrics.All()
	var names []string
	for _, d := range descs {
		if strings.HasPrefix(d.Name, "/memory/classes/") {
			names = append(names, d.Name)
		}
	}
	names = append(names, "/gc/heap/goal:bytes", "/sched/goroutines:goroutines")
	cur := make([]metrics.Sample, len(names))
	for i, n := range names {
		cur[i].Name = n
	}
	var (
		mu   sync.Mutex
		best = make([]metrics.Sample, len(names))
		held uint64
	)
	value := func(s []metrics.Sample, name string) uint64 {
		for _, x := range s {
			if x.Name == name && x.Value.Kind() == metrics.KindUint64 {
				return x.Value.Uint64()
			}
		}
		return 0
	}
	go func() {
		for range time.Tick(2 * time.Millisecond) {
			metrics.Read(cur)
			h := value(cur, "/memory/classes/total:bytes") - value(cur, "/memory/classes/heap/released:bytes")
			mu.Lock()
			if h > held {
				held = h
				copy(best, cur)
			}
			mu.Unlock()
		}
	}()
	return func() string {
		mu.Lock()
		defer mu.Unlock()
		var out []string
		for _, x := range best {
			if x.Value.Kind() != metrics.KindUint64 || x.Value.Uint64() == 0 {
				continue
			}
			n := strings.TrimPrefix(x.Name, "/memory/classes/")
			if strings.HasSuffix(n, ":bytes") {
				out = append(out, fmt.Sprintf("%s %.2f MB", strings.TrimSuffix(n, ":bytes"), float64(x.Value.Uint64())/(1<<20)))
			} else {
				out = append(out, fmt.Sprintf("%s %d", n, x.Value.Uint64()))
			}
		}
		sort.Strings(out)
		held = 0
		return fmt.Sprintf("held from the OS at most %s", strings.Join(out, ", "))
	}
}

func memSummary(m *runtime.MemStats) string {
	mb := func(b uint64) float64 { return float64(b) / (1 << 20) }
	return fmt.Sprintf("heap live %.1f MB in %.1f MB of spans (objects %d), peak heap mapped %.1f MB, heap idle %.1f MB (released %.1f), stacks %.1f MB, GC metadata %.1f MB, other %.1f MB, runtime total %.1f MB, goroutines %d, GCs %d",
		mb(m.HeapAlloc), mb(m.HeapInuse), m.HeapObjects, mb(m.HeapSys), mb(m.HeapIdle), mb(m.HeapReleased), mb(m.StackSys), mb(m.GCSys), mb(m.OtherSys+m.MSpanSys+m.MCacheSys+m.BuckHashSys), mb(m.Sys),
		runtime.NumGoroutine(), m.NumGC)
}

// writeProfile writes the named runtime profile to path, in pprof's format
// for debug 0 and as text for debug 1.
func writeProfile(profile string, debug int, path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	err = pprof.Lookup(profile).WriteTo(f, debug)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
