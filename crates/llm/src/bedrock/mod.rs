//! AWS Bedrock through the official SDK: Converse and ConverseStream.
//!
//! Credentials come from the SDK's default chain (env, shared profile incl. SSO and
//! `credential_process`, role assumption, web identity, container, instance metadata) and
//! `AWS_BEARER_TOKEN_BEDROCK`; region and profile can be forced by options (the CLI's
//! `--aws-region` / `--aws-profile`); the endpoint can only be overridden through the SDK's
//! standard `AWS_ENDPOINT_URL_BEDROCK_RUNTIME` / `AWS_ENDPOINT_URL`.
//!
//! Retries are the SDK's own. The only retry added here re-issues a stream that failed with a
//! throttling or unavailable event *before any output was emitted* — once — because the SDK cannot
//! retry mid-stream.

pub mod batch;
pub mod errors;
pub mod family;
pub mod normalize;
pub mod routing;
pub mod setup;
pub mod stream;
pub mod wire;

use std::sync::Arc;
use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_bedrockruntime::Client;
use aws_sdk_bedrockruntime::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_bedrockruntime::config::{ConfigBag, Intercept, Region, RuntimeComponents};
use aws_sdk_bedrockruntime::error::BoxError;
use aws_sdk_bedrockruntime::types as sdk;
use futures::StreamExt;
use tokio::sync::mpsc;

use crate::catalog::{Catalog, split_model_ref};
use crate::error::LlmError;
use crate::http::AttemptCounter;
use crate::provider::{EventStream, Provider};
use crate::types::{Request, StreamEvent};
use errors::{ErrorContext, from_sdk_error, from_stream_error};
use family::capabilities_for;
pub use setup::SPEC;
use stream::{StreamState, events_of_response};
use wire::{Prepared, prepare};

/// The SDK configuration of the default chain, with the region and the named profile forced
/// when given (the CLI's `--aws-region` / `--aws-profile`).
pub async fn load_sdk_config(
    region: Option<String>,
    profile: Option<String>,
) -> aws_config::SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if let Some(region) = region {
        loader = loader.region(Region::new(region));
    }
    if let Some(profile) = profile {
        loader = loader.profile_name(profile);
    }
    loader.load().await
}

/// The SDK's retry modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryMode {
    /// Exponential backoff with jitter (the SDK default: 3 attempts).
    Standard,
    /// Standard plus a client-side token bucket that slows down under throttling.
    Adaptive,
}

/// Retry settings handed to the SDK (nothing is retried on top of it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetrySettings {
    pub mode: RetryMode,
    /// Total attempts including the first; `None` keeps the SDK default (3).
    pub max_attempts: Option<u32>,
}

/// A Bedrock guardrail. Guardrails work with tool use (they do not evaluate tool blocks).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Guardrail {
    pub id: String,
    /// A version number or `DRAFT`.
    pub version: String,
    pub trace: bool,
}

/// Options the CLI passes (each `None` leaves the SDK's own resolution from env / profile).
#[derive(Debug, Clone, Default)]
pub struct BedrockOptions {
    /// `--aws-region`, over `AWS_REGION` / `AWS_DEFAULT_REGION` / the profile's region.
    pub region: Option<String>,
    /// `--aws-profile`, over `AWS_PROFILE`.
    pub profile: Option<String>,
    /// `None`: `AWS_RETRY_MODE` / `AWS_MAX_ATTEMPTS` / profile settings / standard.
    pub retry: Option<RetrySettings>,
    /// Timeout of one whole call (allow for long generations); `None`: no operation timeout.
    pub operation_timeout: Option<Duration>,
    pub guardrail: Option<Guardrail>,
    /// `--latency optimized` (a preview on a few models).
    pub latency_optimized: bool,
}

/// The Bedrock provider.
#[derive(Clone)]
pub struct BedrockProvider {
    client: Client,
    region: String,
    catalog: Arc<Catalog>,
    options: BedrockOptions,
}

impl BedrockProvider {
    /// Load the AWS configuration the standard way (credential chain, profile, region, endpoint
    /// env vars) with `options` on top.
    pub async fn from_env(
        options: BedrockOptions,
        catalog: Arc<Catalog>,
    ) -> Result<Self, LlmError> {
        let sdk_config = load_sdk_config(options.region.clone(), options.profile.clone()).await;
        Self::from_sdk_config(&sdk_config, options, catalog)
    }

    /// Build from an already loaded SDK configuration (tests point it at a fake endpoint).
    /// The retry and timeout options are layered on the client's own configuration, so they
    /// hold whichever way the SDK configuration was loaded; the conversion from `SdkConfig`
    /// is the one `Client::new` uses, the one that honours `AWS_BEARER_TOKEN_BEDROCK`.
    pub fn from_sdk_config(
        sdk_config: &aws_config::SdkConfig,
        options: BedrockOptions,
        catalog: Arc<Catalog>,
    ) -> Result<Self, LlmError> {
        let region = sdk_config.region().map(|r| r.to_string()).ok_or_else(|| LlmError::Config {
            provider: "bedrock".into(),
            message: "no AWS region configured: pass --aws-region, set AWS_REGION, or set `region` in the AWS profile".into(),
        })?;
        let mut conf = aws_sdk_bedrockruntime::config::Builder::from(sdk_config);
        if let Some(retry) = options.retry {
            let mut rc = match retry.mode {
                RetryMode::Standard => RetryConfig::standard(),
                RetryMode::Adaptive => RetryConfig::adaptive(),
            };
            if let Some(n) = retry.max_attempts {
                rc = rc.with_max_attempts(n.max(1));
            }
            conf.set_retry_config(Some(rc));
        }
        if let Some(t) = options.operation_timeout {
            // Merge with what the SDK configuration already sets (connect timeout, …).
            let mut tc = TimeoutConfig::builder().operation_timeout(t).build();
            if let Some(base) = sdk_config.timeout_config() {
                tc.take_defaults_from(base);
            }
            conf.set_timeout_config(Some(tc));
        }
        Ok(Self {
            client: Client::from_conf(conf.build()),
            region,
            catalog,
            options,
        })
    }

    pub fn region(&self) -> &str {
        &self.region
    }

    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// The model id that will be sent for what the user typed (aliases → the region's profile).
    pub fn resolve_model(&self, model: &str) -> String {
        self.catalog.resolve_bedrock(model, &self.region)
    }

    /// Prepare the request exactly as it will be sent (normalised history, family adaptations).
    pub fn prepare(&self, request: &Request) -> Result<Prepared, LlmError> {
        let model_id = self.resolve_model(&request.model);
        let (family, caps) = capabilities_for(&self.catalog, &model_id);
        prepare(request, &model_id, family, &caps)
    }

    fn guardrail(&self) -> Option<sdk::GuardrailConfiguration> {
        self.options.guardrail.as_ref().map(|g| {
            sdk::GuardrailConfiguration::builder()
                .guardrail_identifier(&g.id)
                .guardrail_version(&g.version)
                .trace(if g.trace {
                    sdk::GuardrailTrace::Enabled
                } else {
                    sdk::GuardrailTrace::Disabled
                })
                .build()
        })
    }

    fn guardrail_stream(&self) -> Option<sdk::GuardrailStreamConfiguration> {
        self.options.guardrail.as_ref().map(|g| {
            sdk::GuardrailStreamConfiguration::builder()
                .guardrail_identifier(&g.id)
                .guardrail_version(&g.version)
                .trace(if g.trace {
                    sdk::GuardrailTrace::Enabled
                } else {
                    sdk::GuardrailTrace::Disabled
                })
                .build()
        })
    }

    fn performance(&self) -> Option<sdk::PerformanceConfiguration> {
        self.options.latency_optimized.then(|| {
            sdk::PerformanceConfiguration::builder()
                .latency(sdk::PerformanceConfigLatency::Optimized)
                .build()
        })
    }

    fn error_context<'a>(&'a self, model: &'a str) -> ErrorContext<'a> {
        ErrorContext {
            model,
            region: &self.region,
            catalog: &self.catalog,
        }
    }

    /// Non-streaming Converse, as events.
    async fn converse(
        &self,
        p: &Prepared,
        attempts: &AttemptCounter,
    ) -> Result<Vec<StreamEvent>, LlmError> {
        let out = self
            .client
            .converse()
            .model_id(&p.model_id)
            .set_system(p.system.clone())
            .set_messages(Some(p.messages.clone()))
            .inference_config(p.inference.clone())
            .set_tool_config(p.tool_config.clone())
            .set_output_config(p.output_config.clone())
            .set_guardrail_config(self.guardrail())
            .set_performance_config(self.performance())
            .customize()
            .interceptor(CountAttempts(attempts.clone()))
            .send()
            .await
            .map_err(|e| from_sdk_error(e, &self.error_context(&p.model_id)))?;
        Ok(events_of_response(&out, &p.model_id))
    }

    async fn start_stream(
        &self,
        p: &Prepared,
        attempts: &AttemptCounter,
    ) -> Result<aws_sdk_bedrockruntime::operation::converse_stream::ConverseStreamOutput, LlmError>
    {
        self.client
            .converse_stream()
            .model_id(&p.model_id)
            .set_system(p.system.clone())
            .set_messages(Some(p.messages.clone()))
            .inference_config(p.inference.clone())
            .set_tool_config(p.tool_config.clone())
            .set_output_config(p.output_config.clone())
            .set_guardrail_config(self.guardrail_stream())
            .set_performance_config(self.performance())
            .customize()
            .interceptor(CountAttempts(attempts.clone()))
            .send()
            .await
            .map_err(|e| from_sdk_error(e, &self.error_context(&p.model_id)))
    }

    /// The inference profile to call instead, once, when the service refused a base id for
    /// lack of on-demand throughput in this region: the catalog may not know the model, or
    /// know it differently from the service, and the service's own verdict is the rule. Only a
    /// profile of the region's geography (or `global.`) is tried — another geography's profile
    /// cannot be called from here.
    fn profile_instead(&self, p: &Prepared, e: &LlmError) -> Option<String> {
        let LlmError::NeedsInferenceProfile { profile, .. } = e else {
            return None;
        };
        if p.model_id.starts_with("arn:") || split_model_ref(&p.model_id).profile_prefix.is_some() {
            return None;
        }
        let prefix = split_model_ref(profile).profile_prefix?;
        (prefix == "global" || crate::catalog::geography_of(&self.region).contains(&prefix)).then(
            || {
                tracing::warn!(
                    model = %p.model_id,
                    profile = %profile,
                    "no on-demand throughput in {}; calling the inference profile instead",
                    self.region
                );
                profile.clone()
            },
        )
    }

    /// Drive one ConverseStream call into `tx`, re-issuing it once if it fails with throttling
    /// or unavailability before any output was emitted, and once through the region's
    /// inference profile if the service says the base id has no on-demand throughput.
    async fn run_stream(
        self,
        mut p: Prepared,
        attempts: AttemptCounter,
        tx: mpsc::Sender<Result<StreamEvent, LlmError>>,
    ) {
        let mut reissued = false;
        'call: loop {
            let mut out = match self.start_stream(&p, &attempts).await {
                Ok(out) => out,
                Err(e) => {
                    if let Some(profile) = self.profile_instead(&p, &e) {
                        p.model_id = profile;
                        continue 'call;
                    }
                    let _ = tx.send(Err(e)).await;
                    return;
                }
            };
            let mut state = StreamState::default();
            loop {
                match out.stream.recv().await {
                    Ok(Some(event)) => {
                        for e in state.on_event(event) {
                            if tx.send(Ok(e)).await.is_err() {
                                return; // the consumer went away
                            }
                        }
                    }
                    Ok(None) => {
                        let last = match state.finish(&p.model_id) {
                            Some(done) => Ok(done),
                            None => Err(broken(
                                &state,
                                "the stream ended before the model finished (no messageStop event)",
                            )),
                        };
                        let _ = tx.send(last).await;
                        return;
                    }
                    Err(e) => {
                        let err = from_stream_error(e, &self.error_context(&p.model_id));
                        let retryable = matches!(
                            err,
                            LlmError::RateLimited { .. } | LlmError::Unavailable { .. }
                        );
                        if !state.emitted_output && retryable && !reissued {
                            reissued = true;
                            continue 'call;
                        }
                        let err = if state.emitted_output {
                            broken(&state, &err.to_string())
                        } else {
                            err
                        };
                        let _ = tx.send(Err(err)).await;
                        return;
                    }
                }
            }
        }
    }
}

/// Counts the SDK's attempts (its hook runs once before each one, retries included).
#[derive(Debug)]
struct CountAttempts(AttemptCounter);

impl Intercept for CountAttempts {
    fn name(&self) -> &'static str {
        "CountAttempts"
    }

    fn read_before_attempt(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.0.bump();
        Ok(())
    }
}

fn broken(state: &StreamState, message: &str) -> LlmError {
    LlmError::StreamBroken {
        provider: "bedrock".into(),
        partial_text: state.text.clone(),
        message: message.to_string(),
    }
}

#[async_trait::async_trait]
impl Provider for BedrockProvider {
    fn name(&self) -> &str {
        "bedrock"
    }

    async fn stream(&self, request: &Request) -> Result<EventStream, LlmError> {
        self.stream_counted(request).await.0
    }

    /// Attempts are counted by an SDK interceptor (every SDK retry, plus the one re-issue of a
    /// stream throttled before output), so the log shows what the SDK really did.
    async fn stream_counted(
        &self,
        request: &Request,
    ) -> (Result<EventStream, LlmError>, Option<AttemptCounter>) {
        let attempts = AttemptCounter::new();
        let mut prepared = match self.prepare(request) {
            Ok(p) => p,
            Err(e) => return (Err(e), Some(attempts)),
        };
        if !prepared.stream {
            // The family cannot stream tool use: one Converse call, replayed as events.
            let mut result = self.converse(&prepared, &attempts).await;
            if let Err(e) = &result
                && let Some(profile) = self.profile_instead(&prepared, e)
            {
                prepared.model_id = profile;
                result = self.converse(&prepared, &attempts).await;
            }
            let result =
                result.map(|events| futures::stream::iter(events.into_iter().map(Ok)).boxed());
            return (result, Some(attempts));
        }
        let (tx, rx) = mpsc::channel(64);
        tokio::spawn(self.clone().run_stream(prepared, attempts.clone(), tx));
        let stream = futures::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|item| (item, rx))
        })
        .boxed();
        (Ok(stream), Some(attempts))
    }
}
