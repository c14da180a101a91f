// Specification tests for the allocation-free building blocks: ByteQueue (base/byte_queue.h),
// PtrTable (core/ptr_table.h) and IList (core/intrusive_list.h).
#include <sys/uio.h>

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "base/byte_queue.h"
#include "core/handle_index.h"
#include "core/intrusive_list.h"
#include "core/ptr_table.h"

namespace gearbox {
namespace {

std::string Pattern(size_t n, size_t seed) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i)
    s[i] = static_cast<char>((i * 131 + seed * 7) & 0xff);
  return s;
}

std::string FromIov(const ByteQueue& q, int max = 1024) {
  std::vector<iovec> iov(static_cast<size_t>(max));
  int n = q.FillIov(iov.data(), max);
  std::string s;
  for (int i = 0; i < n; ++i) {
    s.append(static_cast<const char*>(iov[static_cast<size_t>(i)].iov_base),
             iov[static_cast<size_t>(i)].iov_len);
  }
  return s;
}

// ---------------------------------------------------------------------------------------------
// ByteQueue

TEST(ByteQueue, StartsEmptyWithNothingToWrite) {
  ByteQueue q;
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.size(), 0u);
  iovec iov[4];
  EXPECT_EQ(q.FillIov(iov, 4), 0);
  EXPECT_EQ(q.ToString(), "");
}

TEST(ByteQueue, AppendedBytesComeOutInOrderAcrossManyChunks) {
  ByteQueue q;
  std::string expected;
  for (size_t i = 0; i < 300; ++i) {
    std::string piece = Pattern(i * 37 % 5000 + 1, i);
    q.Append(piece);
    expected += piece;
  }
  EXPECT_EQ(q.size(), expected.size());
  EXPECT_EQ(q.ToString(), expected);
  EXPECT_EQ(FromIov(q), expected);
}

TEST(ByteQueue, AppendReturnsContiguousBytesThatCountAtOnce) {
  ByteQueue q;
  char* p = q.Append(5);
  EXPECT_EQ(q.size(), 5u);
  std::memcpy(p, "hello", 5);
  char* big = q.Append(200000);  // larger than any chunk: gets its own
  std::memset(big, 'x', 200000);
  EXPECT_EQ(q.size(), 200005u);
  EXPECT_EQ(q.ToString(), "hello" + std::string(200000, 'x'));
}

TEST(ByteQueue, AppendingNothingChangesNothing) {
  ByteQueue q;
  q.Append(std::string_view());
  EXPECT_TRUE(q.empty());
  iovec iov[1];
  EXPECT_EQ(q.FillIov(iov, 1), 0);
}

TEST(ByteQueue, FillIovStopsAtMaxAndStartsAtTheHead) {
  ByteQueue q;
  for (int i = 0; i < 10; ++i)
    q.Append(Pattern(70000, static_cast<size_t>(i)));
  iovec iov[2];
  ASSERT_EQ(q.FillIov(iov, 2), 2);
  std::string first(static_cast<const char*>(iov[0].iov_base), iov[0].iov_len);
  EXPECT_EQ(first, q.ToString().substr(0, first.size()));
  EXPECT_EQ(FromIov(q), q.ToString());
}

TEST(ByteQueue, ConsumeDropsBytesFromTheHead) {
  ByteQueue q;
  std::string all = Pattern(100000, 3);
  q.Append(std::string_view(all).substr(0, 3000));
  q.Append(std::string_view(all).substr(3000));
  size_t dropped = 0;
  for (size_t step : {1u, 10u, 2989u, 1u, 5000u, 40000u}) {
    q.Consume(step);
    dropped += step;
    ASSERT_EQ(q.size(), all.size() - dropped);
    ASSERT_EQ(q.ToString(), all.substr(dropped));
    ASSERT_EQ(FromIov(q), all.substr(dropped));
  }
  q.Consume(q.size());
  EXPECT_TRUE(q.empty());
  iovec iov[1];
  EXPECT_EQ(q.FillIov(iov, 1), 0);
}

TEST(ByteQueue, AlternatingAppendAndConsumeKeepsTheStream) {
  // Many chunks consumed one by one exercise the compaction of consumed chunks.
  ByteQueue q;
  std::string model;
  std::mt19937 rng(7);
  size_t produced = 0;
  for (int round = 0; round < 2000; ++round) {
    std::string piece = Pattern(rng() % 9000 + 1, produced++);
    q.Append(piece);
    model += piece;
    size_t n = rng() % (q.size() + 1);
    if (round % 3 == 0) n = q.size() > 10 ? q.size() - 10 : 0;
    q.Consume(n);
    model.erase(0, n);
    ASSERT_EQ(q.size(), model.size());
    if (round % 97 == 0) {
      ASSERT_EQ(q.ToString(), model);
      ASSERT_EQ(FromIov(q), model);
    }
  }
  EXPECT_EQ(q.ToString(), model);
}

TEST(ByteQueue, SpliceMovesEverythingToTheTailAndEmptiesTheOther) {
  ByteQueue a;
  ByteQueue b;
  a.Append("head-");
  b.Append(Pattern(10000, 1));
  b.Consume(3);
  std::string expected = "head-" + Pattern(10000, 1).substr(3);
  a.Splice(b);
  EXPECT_EQ(a.ToString(), expected);
  EXPECT_EQ(a.size(), expected.size());
  EXPECT_TRUE(b.empty());
  EXPECT_EQ(b.ToString(), "");
  // Both stay usable.
  a.Append("-tail");
  b.Append("again");
  EXPECT_EQ(a.ToString(), expected + "-tail");
  EXPECT_EQ(b.ToString(), "again");
}

TEST(ByteQueue, SpliceIntoEmptyQueueTakesTheOthersBytes) {
  ByteQueue a;
  ByteQueue b;
  b.Append("abc");
  b.Append(Pattern(5000, 2));
  b.Consume(1);
  a.Splice(b);
  EXPECT_EQ(a.ToString(), "bc" + Pattern(5000, 2));
  EXPECT_TRUE(b.empty());
  b.Append("x");
  EXPECT_EQ(b.ToString(), "x");
  a.Consume(2);
  EXPECT_EQ(a.ToString(), Pattern(5000, 2));
}

TEST(ByteQueue, SpliceOfEmptyQueueChangesNothing) {
  ByteQueue a;
  ByteQueue b;
  a.Append("keep");
  a.Splice(b);
  EXPECT_EQ(a.ToString(), "keep");
  EXPECT_TRUE(b.empty());
}

TEST(ByteQueue, ClearForgetsEverything) {
  ByteQueue q;
  q.Append(Pattern(100000, 9));
  q.Clear();
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.ToString(), "");
  q.Append("fresh");
  EXPECT_EQ(q.ToString(), "fresh");
}

TEST(ByteQueue, MoveConstructionTakesTheBytes) {
  ByteQueue a;
  a.Append("data");
  ByteQueue b(std::move(a));
  EXPECT_EQ(b.ToString(), "data");
}

// ---------------------------------------------------------------------------------------------
// PtrTable

struct Elem {
  uint64_t key;
  uint64_t hash;
};

struct ElemTraits {
  static uint64_t Hash(const Elem* e) { return e->hash; }
  static bool Eq(const Elem* e, uint64_t key) { return e->key == key; }
};

using Table = core::PtrTable<Elem, ElemTraits>;

TEST(PtrTable, EmptyTableFindsNothingAndErasesNothing) {
  Table t;
  Elem e{1, 1};
  EXPECT_EQ(t.Find(uint64_t{1}, 1), nullptr);
  EXPECT_FALSE(t.Erase(&e));
  EXPECT_EQ(t.size(), 0u);
  EXPECT_EQ(t.capacity(), 0u);
}

TEST(PtrTable, FindsWhatWasInsertedByKey) {
  Table t;
  std::vector<std::unique_ptr<Elem>> v;
  for (uint64_t k = 0; k < 100; ++k) {
    v.push_back(std::make_unique<Elem>(Elem{k, k * 0x9e3779b97f4a7c15ULL}));
    t.Insert(v.back().get());
  }
  EXPECT_EQ(t.size(), 100u);
  for (auto& e : v)
    EXPECT_EQ(t.Find(e->key, e->hash), e.get());
  EXPECT_EQ(t.Find(uint64_t{1000}, 1000 * 0x9e3779b97f4a7c15ULL), nullptr);
}

TEST(PtrTable, EraseOfAbsentElementReturnsFalse) {
  Table t;
  Elem a{1, 5};
  Elem b{2, 5};
  t.Insert(&a);
  EXPECT_FALSE(t.Erase(&b));  // same hash, different identity
  EXPECT_EQ(t.size(), 1u);
  EXPECT_EQ(t.Find(uint64_t{1}, 5), &a);
}

TEST(PtrTable, EraseBackwardShiftsCollidingEntries) {
  Table t;
  Elem a{1, 3};
  Elem b{2, 3};
  Elem c{3, 3};
  Elem d{4, 4};  // home slot taken by the cluster of 3s
  for (Elem* e : {&a, &b, &c, &d})
    t.Insert(e);
  EXPECT_TRUE(t.Erase(&a));
  EXPECT_EQ(t.Find(uint64_t{2}, 3), &b);
  EXPECT_EQ(t.Find(uint64_t{3}, 3), &c);
  EXPECT_EQ(t.Find(uint64_t{4}, 4), &d);
  EXPECT_EQ(t.Find(uint64_t{1}, 3), nullptr);
  EXPECT_TRUE(t.Erase(&c));
  EXPECT_EQ(t.Find(uint64_t{2}, 3), &b);
  EXPECT_EQ(t.Find(uint64_t{4}, 4), &d);
  EXPECT_EQ(t.size(), 2u);
}

TEST(PtrTable, EraseBackwardShiftsAcrossTheEndOfTheTable) {
  Table t;
  Elem first{0, 0};
  t.Insert(&first);
  ASSERT_EQ(t.capacity(), 16u);
  // A cluster homed at the last slot wraps to slots 0.. ; slot 0's own element is in it too.
  Elem w1{1, 15};
  Elem w2{2, 15};
  Elem w3{3, 15};
  Elem z{4, 0};
  for (Elem* e : {&w1, &w2, &w3, &z})
    t.Insert(e);
  EXPECT_TRUE(t.Erase(&w1));
  EXPECT_TRUE(t.Erase(&first));
  for (Elem* e : {&w2, &w3, &z})
    EXPECT_EQ(t.Find(e->key, e->hash), e) << e->key;
  EXPECT_TRUE(t.Erase(&w2));
  for (Elem* e : {&w3, &z})
    EXPECT_EQ(t.Find(e->key, e->hash), e) << e->key;
}

TEST(PtrTable, MatchesAModelUnderHeavyCollisions) {
  Table t;
  std::map<uint64_t, std::unique_ptr<Elem>> model;
  std::mt19937_64 rng(42);
  for (int op = 0; op < 20000; ++op) {
    uint64_t key = rng() % 300;
    auto it = model.find(key);
    if (it == model.end()) {
      // Few distinct hashes, some near the top of the mask, so clusters form and wrap.
      auto e = std::make_unique<Elem>(Elem{key, (key % 13) * 0x1000 + 0xff0 + key % 5});
      t.Insert(e.get());
      model.emplace(key, std::move(e));
    } else {
      ASSERT_TRUE(t.Erase(it->second.get()));
      model.erase(it);
    }
    ASSERT_EQ(t.size(), model.size());
    if (op % 100 == 0) {
      for (uint64_t k = 0; k < 300; ++k) {
        auto m = model.find(k);
        Elem probe{k, (k % 13) * 0x1000 + 0xff0 + k % 5};
        ASSERT_EQ(t.Find(k, probe.hash), m == model.end() ? nullptr : m->second.get()) << op;
      }
    }
  }
}

TEST(PtrTable, GrowsAtThreeQuartersLoad) {
  Table t;
  std::vector<std::unique_ptr<Elem>> v;
  for (uint64_t k = 0; k < 13; ++k) {
    v.push_back(std::make_unique<Elem>(Elem{k, k}));
    t.Insert(v.back().get());
    EXPECT_EQ(t.capacity(), k < 12 ? 16u : 32u) << k;
  }
  for (auto& e : v)
    EXPECT_EQ(t.Find(e->key, e->hash), e.get());
}

TEST(PtrTable, ShrinksWhenMostlyEmptyAndKeepsTheRest) {
  Table t;
  std::vector<std::unique_ptr<Elem>> v;
  for (uint64_t k = 0; k < 5000; ++k) {
    v.push_back(std::make_unique<Elem>(Elem{k, k * 2654435761u}));
    t.Insert(v.back().get());
  }
  size_t peak = t.capacity();
  EXPECT_GE(peak, 5000u * 4 / 3);
  for (size_t i = 0; i + 3 < v.size(); ++i) {
    ASSERT_TRUE(t.Erase(v[i].get()));
    if (i % 500 == 0) {
      for (size_t j = i + 1; j < v.size(); ++j) {
        ASSERT_EQ(t.Find(v[j]->key, v[j]->hash), v[j].get());
      }
    }
  }
  EXPECT_LE(t.capacity(), 64u);
  EXPECT_LT(t.capacity(), peak);
  for (size_t j = v.size() - 3; j < v.size(); ++j) {
    EXPECT_EQ(t.Find(v[j]->key, v[j]->hash), v[j].get());
  }
}

TEST(PtrTable, ForEachVisitsEveryElementOnce) {
  Table t;
  std::vector<std::unique_ptr<Elem>> v;
  for (uint64_t k = 0; k < 40; ++k) {
    v.push_back(std::make_unique<Elem>(Elem{k, k % 4}));
    t.Insert(v.back().get());
  }
  std::map<uint64_t, int> seen;
  t.ForEach([&](Elem* e) { ++seen[e->key]; });
  ASSERT_EQ(seen.size(), 40u);
  for (auto& [k, n] : seen)
    EXPECT_EQ(n, 1) << k;
}

// ---------------------------------------------------------------------------------------------
// IList

struct Node {
  int v = 0;
  Node* prev_a = nullptr;
  Node* next_a = nullptr;
  Node* prev_b = nullptr;
  Node* next_b = nullptr;
};
using ListA = core::IList<Node, &Node::prev_a, &Node::next_a>;
using ListB = core::IList<Node, &Node::prev_b, &Node::next_b>;

std::vector<int> Values(const ListA& l) {
  std::vector<int> out;
  for (Node* n = l.front(); n != nullptr; n = ListA::next(n))
    out.push_back(n->v);
  return out;
}

TEST(IList, PushBackAndPushFrontKeepOrder) {
  Node n[4] = {{1}, {2}, {3}, {4}};
  ListA l;
  EXPECT_TRUE(l.empty());
  l.push_back(&n[1]);
  l.push_back(&n[2]);
  l.push_front(&n[0]);
  l.push_back(&n[3]);
  EXPECT_EQ(Values(l), (std::vector<int>{1, 2, 3, 4}));
  EXPECT_EQ(l.size(), 4u);
  EXPECT_EQ(l.front(), &n[0]);
  EXPECT_EQ(l.back(), &n[3]);
}

TEST(IList, RemoveFromHeadMiddleAndTail) {
  Node n[5] = {{1}, {2}, {3}, {4}, {5}};
  ListA l;
  for (auto& x : n)
    l.push_back(&x);
  l.remove(&n[2]);
  EXPECT_EQ(Values(l), (std::vector<int>{1, 2, 4, 5}));
  EXPECT_EQ(n[2].prev_a, nullptr);
  EXPECT_EQ(n[2].next_a, nullptr);
  l.remove(&n[0]);
  EXPECT_EQ(l.front(), &n[1]);
  l.remove(&n[4]);
  EXPECT_EQ(l.back(), &n[3]);
  EXPECT_EQ(Values(l), (std::vector<int>{2, 4}));
  l.remove(&n[1]);
  l.remove(&n[3]);
  EXPECT_TRUE(l.empty());
  EXPECT_EQ(l.size(), 0u);
  EXPECT_EQ(l.front(), nullptr);
  EXPECT_EQ(l.back(), nullptr);
}

TEST(IList, PopFrontReturnsElementsInOrderThenNull) {
  Node n[3] = {{1}, {2}, {3}};
  ListA l;
  for (auto& x : n)
    l.push_back(&x);
  EXPECT_EQ(l.pop_front(), &n[0]);
  EXPECT_EQ(l.pop_front(), &n[1]);
  EXPECT_EQ(l.pop_front(), &n[2]);
  EXPECT_EQ(l.pop_front(), nullptr);
  EXPECT_TRUE(l.empty());
}

TEST(IList, ElementCanBeInTwoListsThroughDifferentLinks) {
  Node n[3] = {{1}, {2}, {3}};
  ListA a;
  ListB b;
  for (auto& x : n)
    a.push_back(&x);
  b.push_back(&n[2]);
  b.push_back(&n[0]);
  a.remove(&n[0]);
  EXPECT_EQ(Values(a), (std::vector<int>{2, 3}));
  EXPECT_EQ(b.front(), &n[2]);
  EXPECT_EQ(ListB::next(&n[2]), &n[0]);
  EXPECT_EQ(b.size(), 2u);
}

TEST(IList, RemovedElementCanBeAddedAgain) {
  Node n[2] = {{1}, {2}};
  ListA l;
  l.push_back(&n[0]);
  l.push_back(&n[1]);
  l.remove(&n[0]);
  l.push_back(&n[0]);
  EXPECT_EQ(Values(l), (std::vector<int>{2, 1}));
}

}  // namespace
}  // namespace gearbox

// ---------------------------------------------------------------------------------------------
// HandleIndex

namespace {
struct Item {
  uint64_t no;
};
}  // namespace

TEST(HandleIndex, FindsWhatWasInsertedAndNothingElse) {
  gearbox::core::HandleIndex<Item> idx;
  Item a{1}, b{2}, c{5000};
  idx.Insert(a.no, &a);
  idx.Insert(b.no, &b);
  idx.Insert(c.no, &c);
  EXPECT_EQ(idx.size(), 3u);
  EXPECT_EQ(idx.Find(1), &a);
  EXPECT_EQ(idx.Find(2), &b);
  EXPECT_EQ(idx.Find(5000), &c);
  EXPECT_EQ(idx.Find(3), nullptr);
  EXPECT_EQ(idx.Find(0), nullptr);
  EXPECT_EQ(idx.Find(1u << 30), nullptr);
}

TEST(HandleIndex, EraseForgetsOnlyThatHandle) {
  gearbox::core::HandleIndex<Item> idx;
  Item a{7}, b{8};
  idx.Insert(a.no, &a);
  idx.Insert(b.no, &b);
  idx.Erase(7);
  idx.Erase(7);     // twice is harmless
  idx.Erase(9999);  // unknown is harmless
  EXPECT_EQ(idx.Find(7), nullptr);
  EXPECT_EQ(idx.Find(8), &b);
  EXPECT_EQ(idx.size(), 1u);
}

TEST(HandleIndex, ForEachVisitsInHandleOrderAcrossPages) {
  gearbox::core::HandleIndex<Item> idx;
  std::vector<Item> items;
  for (uint64_t no : {3u, 70000u, 4096u, 4095u, 1u}) items.push_back({no});
  for (auto& i : items) idx.Insert(i.no, &i);
  std::vector<uint64_t> seen;
  idx.ForEach([&](Item* i) { seen.push_back(i->no); });
  EXPECT_EQ(seen, (std::vector<uint64_t>{1, 3, 4095, 4096, 70000}));
}

TEST(HandleIndex, DrainedRangeReleasesItsPagesAndKeepsWorking) {
  gearbox::core::HandleIndex<Item> idx;
  std::vector<Item> items(100000);
  for (uint64_t i = 0; i < items.size(); ++i) {
    items[i].no = i + 1;
    idx.Insert(items[i].no, &items[i]);
  }
  Item survivor{50};  // an old job outliving many newer ones
  idx.Erase(50);
  idx.Insert(50, &survivor);
  for (uint64_t i = 0; i < items.size(); ++i) {
    if (items[i].no != 50) idx.Erase(items[i].no);
  }
  EXPECT_EQ(idx.size(), 1u);
  EXPECT_EQ(idx.Find(50), &survivor);
  Item later{200000};
  idx.Insert(later.no, &later);
  EXPECT_EQ(idx.Find(200000), &later);
  idx.Erase(50);
  EXPECT_EQ(idx.Find(200000), &later);
  EXPECT_EQ(idx.size(), 1u);
}
