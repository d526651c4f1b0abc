package conversation

import "maps"

// Clone returns a deep copy of s: nothing reachable from the copy (slices,
// pointers, maps) is shared with s, so either may be changed without the
// other seeing it. A store keeps a committed state this way, to hand it
// back later without decoding it again (storage/sessioncache).
//
// Every reference-typed field of State and of the types it holds must be
// copied here; TestCloneSharesNothing fills every field by reflection and
// fails on one that is not.
func (s State) Clone() State {
	c := s
	c.ESIMs = cloneSlice(s.ESIMs)
	c.Actions = cloneSlice(s.Actions)
	c.Flow = s.Flow.clone()
	c.Cart = cloneItems(s.Cart)
	c.PendingItems = cloneItems(s.PendingItems)
	if s.Purchases != nil {
		c.Purchases = make([]Purchase, len(s.Purchases))
		for i, p := range s.Purchases {
			c.Purchases[i] = p.clone()
		}
	}
	c.History = cloneSlice(s.History)
	return c
}

func (f Flow) clone() Flow {
	c := f
	c.Results = cloneSlice(f.Results)
	if f.Product != nil {
		p := f.Product.clone()
		c.Product = &p
	}
	if f.Choice != nil {
		ch := *f.Choice
		c.Choice = &ch
	}
	c.Operators = cloneSlice(f.Operators)
	c.Repay = cloneItems(f.Repay)
	return c
}

func (p Product) clone() Product {
	c := p
	c.Packages = cloneSlice(p.Packages)
	if p.Range != nil {
		r := *p.Range
		c.Range = &r
	}
	c.Coverage = cloneSlice(p.Coverage)
	return c
}

func (p Purchase) clone() Purchase {
	c := p
	c.Invoice = p.Invoice.clone()
	c.Items = cloneItems(p.Items)
	if p.Announced != nil {
		c.Announced = maps.Clone(p.Announced)
	}
	return c
}

func (inv Invoice) clone() Invoice {
	c := inv
	if inv.Orders != nil {
		c.Orders = make([]Order, len(inv.Orders))
		for i, o := range inv.Orders {
			if o.Redemption != nil {
				r := *o.Redemption
				r.Extra = cloneSlice(r.Extra)
				o.Redemption = &r
			}
			c.Orders[i] = o
		}
	}
	return c
}

// cloneItems copies cart items; they hold no references of their own.
func cloneItems(items []CartItem) []CartItem { return cloneSlice(items) }

// cloneSlice copies a slice of values without references; nil stays nil
// and empty stays empty, so that the copy is DeepEqual to the original.
func cloneSlice[E any](s []E) []E {
	if s == nil {
		return nil
	}
	return append(make([]E, 0, len(s)), s...)
}
