#include "agent/sflow/agent.h"

#include <algorithm>
#include <utility>

namespace xflowd::agent::sflow {

Agent::Agent(const AgentConfig& config, const hal::base::Clock& clock, hal::base::Prng& prng,
             hal::base::Logger& logger)
    : config_(config),
      clock_(clock),
      prng_(prng),
      logger_(logger),
      boot_(clock.Now()),
      poller_phase_(prng.Next32()),
      data_log_(logger_) {}

Agent::~Agent() = default;

Receiver& Agent::AddReceiver(const ReceiverConfig& config,
                             std::vector<exporter::Transport*> transports) {
  receivers_.push_back(std::make_unique<Receiver>(
      config, config_.agent_address, config_.sub_agent_id, clock_, boot_, std::move(transports)));
  return *receivers_.back();
}

Sampler& Agent::AddSampler(uint32_t ifindex, hal::Direction direction, const SamplerConfig& config,
                           Receiver& receiver, hal::SamplingControl* control) {
  auto sampler =
      std::make_unique<Sampler>(ifindex, direction, config, receiver, prng_, clock_, control);
  Sampler* raw = sampler.get();
  raw->set_routes(routes_);
  auto it = std::find_if(samplers_.begin(), samplers_.end(), [&](const auto& s) {
    return s->ifindex() == ifindex && s->direction() == direction;
  });
  if (it != samplers_.end()) {
    *it = std::move(sampler);
  } else {
    samplers_.push_back(std::move(sampler));
  }
  sampler_index_[Key(ifindex, direction)] = raw;
  return *raw;
}

void Agent::SetRouteTable(const hal::RouteTable* routes) {
  routes_ = routes;
  for (auto& s : samplers_) s->set_routes(routes);
}

uint32_t Agent::NextCountdown(uint32_t interval_s) {
  // Independent uniform first countdowns bunch up (48 pollers over 20 s put 5 or more in one
  // second, twice the mean, for about 9 seeds in 10). A random start plus golden-ratio steps
  // keeps each countdown uniform in [1, interval] yet spreads the set nearly evenly.
  constexpr uint32_t kGoldenRatio32 = 0x9E3779B9u;  // 2^32 / phi
  const uint32_t ticks = 1 + static_cast<uint32_t>((uint64_t{poller_phase_} * interval_s) >> 32);
  poller_phase_ += kGoldenRatio32;
  return ticks;
}

Poller& Agent::AddPoller(const hal::PortInfo& port, const PollerConfig& config, Receiver& receiver,
                         hal::CounterSource& counters) {
  auto poller = std::make_unique<Poller>(port, config, receiver, counters, prng_);
  Poller* raw = poller.get();
  raw->set_countdown(NextCountdown(config.interval_s));
  auto it = std::find_if(pollers_.begin(), pollers_.end(),
                         [&](const auto& p) { return p->ifindex() == port.ifindex; });
  if (it != pollers_.end()) {
    *it = std::move(poller);
  } else {
    pollers_.push_back(std::move(poller));
  }
  return *raw;
}

HostPoller* Agent::SetHostPoller(const HostPollerConfig& config, Receiver* receiver,
                                 hal::host::HostReader* reader) {
  if (reader == nullptr) {
    host_poller_.reset();
    return nullptr;
  }
  const uint32_t first = config.interval_s ? NextCountdown(config.interval_s) : 0;
  host_poller_ = std::make_unique<HostPoller>(config, receiver, *reader, first, &logger_);
  return host_poller_.get();
}

void Agent::RemoveReceiver(Receiver* receiver) {
  auto it = std::find_if(receivers_.begin(), receivers_.end(),
                         [&](const auto& r) { return r.get() == receiver; });
  if (it == receivers_.end()) return;
  receiver->Flush();
  for (auto& s : samplers_) {
    if (s->receiver() == receiver) s->set_receiver(nullptr);
  }
  for (auto& p : pollers_) {
    if (p->receiver() == receiver) p->set_receiver(nullptr);
  }
  if (host_poller_ && host_poller_->receiver() == receiver) host_poller_->set_receiver(nullptr);
  receivers_.erase(it);
}

bool Agent::SetSamplerReceiver(uint32_t ifindex, hal::Direction direction, Receiver* receiver) {
  Sampler* s = FindSampler(ifindex, direction);
  if (s == nullptr) return false;
  if (s->receiver() == receiver) return true;
  // Samples already taken leave with the old receiver's next datagram, in order.
  if (s->receiver() != nullptr) s->receiver()->Flush();
  s->set_receiver(receiver);
  return true;
}

bool Agent::SetPollerReceiver(uint32_t ifindex, Receiver* receiver) {
  Poller* p = FindPoller(ifindex);
  if (p == nullptr) return false;
  if (p->receiver() == receiver) return true;
  if (p->receiver() != nullptr) p->receiver()->Flush();
  p->set_receiver(receiver);
  return true;
}

bool Agent::RemoveSampler(uint32_t ifindex, hal::Direction direction) {
  if (sampler_index_.erase(Key(ifindex, direction)) == 0) return false;
  samplers_.erase(std::remove_if(samplers_.begin(), samplers_.end(),
                                 [&](const auto& s) {
                                   return s->ifindex() == ifindex && s->direction() == direction;
                                 }),
                  samplers_.end());
  return true;
}

void Agent::RemovePort(uint32_t ifindex) {
  sampler_index_.erase(Key(ifindex, hal::Direction::kIngress));
  sampler_index_.erase(Key(ifindex, hal::Direction::kEgress));
  samplers_.erase(std::remove_if(samplers_.begin(), samplers_.end(),
                                 [&](const auto& s) { return s->ifindex() == ifindex; }),
                  samplers_.end());
  pollers_.erase(std::remove_if(pollers_.begin(), pollers_.end(),
                                [&](const auto& p) { return p->ifindex() == ifindex; }),
                 pollers_.end());
}

bool Agent::ReconfigurePoller(uint32_t ifindex, const PollerConfig& config) {
  Poller* p = FindPoller(ifindex);
  if (p == nullptr) return false;
  const bool new_interval = p->config().interval_s != config.interval_s;
  p->Reconfigure(config);
  if (new_interval && config.interval_s != 0) {
    p->set_countdown(NextCountdown(config.interval_s));
  }
  return true;
}

void Agent::SetIdentity(const AgentConfig& config) {
  config_ = config;
  for (auto& r : receivers_) {
    r->Reconfigure(r->config(), config_.agent_address, config_.sub_agent_id);
  }
}

void Agent::OnSample(const hal::PacketSample& sample) {
  ++stats_.samples_in;
  const uint32_t ifindex =
      sample.direction == hal::Direction::kIngress ? sample.input_ifindex : sample.output_ifindex;
  auto it = sampler_index_.find(Key(ifindex, sample.direction));
  if (it == sampler_index_.end()) {
    ++stats_.no_sampler;
    // Normal for a moment while ports come and go; debug only.
    data_log_.Log(clock_.Now(), hal::base::LogLevel::kDebug, "sflow: no sampler for ifindex %u %s",
                  ifindex, sample.direction == hal::Direction::kIngress ? "ingress" : "egress");
    return;
  }
  it->second->OnSample(sample);
}

void Agent::Tick(hal::base::MonoTime now) {
  for (auto& s : samplers_) s->Tick(now);
  for (auto& p : pollers_) p->Tick(now);
  if (host_poller_) host_poller_->Tick(now);
  for (auto& r : receivers_) r->Flush();
}

void Agent::Flush() {
  for (auto& r : receivers_) r->Flush();
}

Sampler* Agent::FindSampler(uint32_t ifindex, hal::Direction direction) {
  auto it = sampler_index_.find(Key(ifindex, direction));
  return it == sampler_index_.end() ? nullptr : it->second;
}

Poller* Agent::FindPoller(uint32_t ifindex) {
  for (auto& p : pollers_) {
    if (p->ifindex() == ifindex) return p.get();
  }
  return nullptr;
}

}  // namespace xflowd::agent::sflow
