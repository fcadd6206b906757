#include "proto/base/prometheus_text.h"

#include <gtest/gtest.h>

#include <string>

namespace roomq::base {
namespace {

TEST(PrometheusText, CounterAndGaugeWriteHelpTypeAndOneSample) {
  PrometheusText page("roomq_x_");
  page.Counter("sent_total", "Messages sent.", 7);
  page.Gauge("queued_bytes", "Bytes queued.", 0);
  EXPECT_EQ(page.Take(),
            "# HELP roomq_x_sent_total Messages sent.\n"
            "# TYPE roomq_x_sent_total counter\n"
            "roomq_x_sent_total 7\n"
            "# HELP roomq_x_queued_bytes Bytes queued.\n"
            "# TYPE roomq_x_queued_bytes gauge\n"
            "roomq_x_queued_bytes 0\n");
}

TEST(PrometheusText, LabelledSamplesShareOneHeader) {
  PrometheusText page("p_");
  page.Header("drops_total", "counter", "Drops, by reason.");
  page.Sample("drops_total", {{"reason", "full"}}, 18446744073709551615u);
  page.Sample("sockets", {{"namespace", "/chat"}, {"transport", "websocket"}}, 2);
  page.Sample("age_seconds", {}, "0.250");
  EXPECT_EQ(page.Take(),
            "# HELP p_drops_total Drops, by reason.\n"
            "# TYPE p_drops_total counter\n"
            "p_drops_total{reason=\"full\"} 18446744073709551615\n"
            "p_sockets{namespace=\"/chat\",transport=\"websocket\"} 2\n"
            "p_age_seconds 0.250\n");
}

TEST(PrometheusText, LabelValuesEscapeBackslashQuoteAndNewline) {
  EXPECT_EQ(EscapeLabelValue("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
  EXPECT_EQ(EscapeLabelValue("plain /ns é"), "plain /ns é");
  PrometheusText page("");
  page.Sample("m", {{"ns", "/\"x\"\\\n"}}, 1);
  EXPECT_EQ(page.Take(), "m{ns=\"/\\\"x\\\"\\\\\\n\"} 1\n");
}

TEST(PrometheusText, HelpEscapesBackslashAndNewlineButNotQuotes) {
  PrometheusText page("");
  page.Header("m", "gauge", "a \"b\" c\\d\ne");
  EXPECT_EQ(page.Take(), "# HELP m a \"b\" c\\\\d\\ne\n# TYPE m gauge\n");
}

TEST(PrometheusText, TakeEmptiesTheWriter) {
  PrometheusText page("p_");
  page.Counter("a_total", "A.", 1);
  EXPECT_FALSE(page.Take().empty());
  EXPECT_EQ(page.Take(), "");
}

}  // namespace
}  // namespace roomq::base
