package conversation

import (
	"reflect"
	"testing"
	"time"
)

var timeType = reflect.TypeFor[time.Time]()

// fill sets every field reachable from v to a non-zero value: one element
// in every slice and map, every pointer set.
func fill(t *testing.T, v reflect.Value, path string) {
	t.Helper()
	switch v.Kind() {
	case reflect.String:
		v.SetString("x")
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(1)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(1)
	case reflect.Struct:
		if v.Type() == timeType {
			v.Set(reflect.ValueOf(time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC)))
			return
		}
		for i := range v.NumField() {
			fill(t, v.Field(i), path+"."+v.Type().Field(i).Name)
		}
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		fill(t, v.Index(0), path+"[0]")
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(t, v.Elem(), path)
	case reflect.Map:
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		fill(t, k, path+"[key]")
		fill(t, e, path+"[value]")
		v.Set(reflect.MakeMap(v.Type()))
		v.SetMapIndex(k, e)
	default:
		t.Fatalf("%s: a %s in State: teach Clone and this test about it", path, v.Kind())
	}
}

// shared reports the first slice, pointer or map reachable from both a and
// b at the same place.
func shared(a, b reflect.Value, path string) string {
	switch a.Kind() {
	case reflect.Struct:
		if a.Type() == timeType {
			return "" // a value; its *Location is immutable and shared by design
		}
		for i := range a.NumField() {
			if p := shared(a.Field(i), b.Field(i), path+"."+a.Type().Field(i).Name); p != "" {
				return p
			}
		}
	case reflect.Slice:
		if a.Len() > 0 && a.Pointer() == b.Pointer() {
			return path
		}
		for i := range a.Len() {
			if p := shared(a.Index(i), b.Index(i), path+"[i]"); p != "" {
				return p
			}
		}
	case reflect.Pointer:
		if a.IsNil() {
			return ""
		}
		if a.Pointer() == b.Pointer() {
			return path
		}
		return shared(a.Elem(), b.Elem(), path)
	case reflect.Map:
		if a.Len() > 0 && a.Pointer() == b.Pointer() {
			return path
		}
		for _, k := range a.MapKeys() {
			if p := shared(a.MapIndex(k), b.MapIndex(k), path+"[k]"); p != "" {
				return p
			}
		}
	}
	return ""
}

// A clone shares nothing with its original, whatever fields State grows:
// a store hands a cached clone out as a state of the caller's own.
func TestCloneSharesNothing(t *testing.T) {
	var s State
	fill(t, reflect.ValueOf(&s).Elem(), "State")
	c := s.Clone()
	if !reflect.DeepEqual(s, c) {
		t.Fatalf("clone differs from the original:\n%+v\n%+v", s, c)
	}
	if p := shared(reflect.ValueOf(s), reflect.ValueOf(c), "State"); p != "" {
		t.Fatalf("%s is shared between a state and its clone: copy it in Clone", p)
	}
	c.Purchases[0].Announced["x"] = "changed"
	c.Purchases[0].Invoice.Orders[0].Redemption.Extra[0].Value = "changed"
	c.Product.Packages[0].Label = "changed"
	if s.Purchases[0].Announced["x"] != "x" || s.Purchases[0].Invoice.Orders[0].Redemption.Extra[0].Value != "x" || s.Product.Packages[0].Label != "x" {
		t.Fatal("changing the clone changed the original")
	}
}

// Nil stays nil and empty stays empty, so a clone is DeepEqual to its
// original, as a store's tests compare them.
func TestCloneKeepsNilAndEmpty(t *testing.T) {
	cases := []struct {
		name string
		s    State
	}{
		{"zero", State{}},
		{"new", NewState(SessionKey{Platform: "test", User: "u"}, "nonce", "en-US")},
		{"empty slices", State{Menus: Menus{Actions: []Action{}}, Ledger: Ledger{Purchases: []Purchase{{Announced: map[string]string{}, Invoice: Invoice{Orders: []Order{}}}}}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if c := tc.s.Clone(); !reflect.DeepEqual(tc.s, c) {
				t.Fatalf("clone differs:\n%#v\n%#v", tc.s, c)
			}
		})
	}
}
