/* check.h - a minimal assertion harness for the C unit tests (one binary per topic). */
#ifndef CHECK_H
#define CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_failures, check_count;

#define CHECK(cond)                                                               \
  do {                                                                            \
    check_count++;                                                                \
    if (!(cond)) {                                                                \
      check_failures++;                                                           \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);    \
    }                                                                             \
  } while (0)

#define CHECK_EQ(a, b)                                                            \
  do {                                                                            \
    long long a_ = (long long)(a), b_ = (long long)(b);                           \
    check_count++;                                                                \
    if (a_ != b_) {                                                               \
      check_failures++;                                                           \
      fprintf(stderr, "%s:%d: %s == %lld, expected %s == %lld\n", __FILE__,       \
              __LINE__, #a, a_, #b, b_);                                          \
    }                                                                             \
  } while (0)

#define CHECK_STR(a, b)                                                           \
  do {                                                                            \
    const char *a_ = (a), *b_ = (b);                                              \
    check_count++;                                                                \
    if (a_ == NULL || strcmp(a_, b_) != 0) {                                      \
      check_failures++;                                                           \
      fprintf(stderr, "%s:%d: %s is\n  %s\nexpected\n  %s\n", __FILE__, __LINE__, \
              #a, a_ ? a_ : "(null)", b_);                                        \
    }                                                                             \
  } while (0)

#define RUN(test)                                                                 \
  do {                                                                            \
    int before_ = check_failures;                                                 \
    test();                                                                       \
    printf("%s %s\n", check_failures == before_ ? "ok  " : "FAIL", #test);        \
  } while (0)

static int check_report(void)
{
  printf("%d checks, %d failed\n", check_count, check_failures);
  return check_failures ? 1 : 0;
}

#endif
