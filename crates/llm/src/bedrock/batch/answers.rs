//! A provider that answers from a finished batch job, and on demand otherwise.
//!
//! `batch collect` runs the ordinary report pipeline with this provider: a request whose batch
//! form ([`super::records::batch_form`]) is the `modelInput` of one of the job's records gets
//! that record's answer (or its error), folded exactly like an on-demand answer, so the
//! pipeline validates, fixes and repairs it with the very same code; every other request — a
//! repair turn, a request that changed because the athlete's data changed since submission —
//! goes to the on-demand provider. Each record answers once.

use std::sync::{Arc, Mutex};

use futures::StreamExt;
use serde_json::Value;

use super::output::{Outcome, events_of_output};
use super::records::BodyWriter;
use crate::bedrock::BedrockProvider;
use crate::error::LlmError;
use crate::http::AttemptCounter;
use crate::provider::{EventStream, Provider};
use crate::types::Request;

/// One record of the job waiting for its request.
#[derive(Debug, Clone)]
pub struct Prefilled {
    pub record_id: String,
    pub model_input: Value,
    pub outcome: Outcome,
}

/// What the provider did with a record.
#[derive(Debug, Clone, PartialEq)]
pub enum Use {
    /// The record's answer was given to the pipeline.
    Answered { record_id: String },
    /// The record had failed in the job; the pipeline got its error.
    Failed { record_id: String, error: String },
}

/// See the module documentation.
pub struct BatchAnswers {
    on_demand: Arc<dyn Provider>,
    bedrock: BedrockProvider,
    writer: BodyWriter,
    /// The model the job ran (answers without a router trace name it).
    model_id: String,
    pending: Mutex<Vec<Prefilled>>,
    uses: Mutex<Vec<Use>>,
}

impl BatchAnswers {
    /// `bedrock` writes the bodies (it must resolve the model as at submission); `on_demand`
    /// takes every request no record answers.
    pub fn new(
        on_demand: Arc<dyn Provider>,
        bedrock: BedrockProvider,
        model_id: &str,
        records: Vec<Prefilled>,
    ) -> Self {
        BatchAnswers {
            on_demand,
            bedrock,
            writer: BodyWriter::new(),
            model_id: model_id.to_string(),
            pending: Mutex::new(records),
            uses: Mutex::new(Vec::new()),
        }
    }

    /// What was answered from the job so far, in call order.
    pub fn uses(&self) -> Vec<Use> {
        self.uses.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Records no request has asked for (the request changed, or its phase was resumed).
    pub fn unused(&self) -> Vec<String> {
        self.pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|p| p.record_id.clone())
            .collect()
    }

    async fn body(&self, request: &Request) -> Option<Value> {
        self.writer
            .body(&self.bedrock, request)
            .await
            .ok()
            .map(|(_, body)| body)
    }

    fn position(&self, body: &Value) -> Option<usize> {
        self.pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .position(|p| &p.model_input == body)
    }

    /// The record answering `request`, taken out of the pending ones.
    async fn take(&self, request: &Request) -> Option<Prefilled> {
        let body = self.body(request).await?;
        let i = self.position(&body)?;
        Some(
            self.pending
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(i),
        )
    }

    fn answer(&self, request: &Request, record: Prefilled) -> Result<EventStream, LlmError> {
        let structured = request.structured_output.as_ref().map(|s| s.name.as_str());
        let mut uses = self.uses.lock().unwrap_or_else(|e| e.into_inner());
        match record.outcome {
            Outcome::Answer(output) => {
                let events =
                    events_of_output(&output, &self.model_id, structured).map_err(|message| {
                        LlmError::Model {
                            provider: "bedrock".into(),
                            message: format!("batch record {}: {message}", record.record_id),
                        }
                    })?;
                uses.push(Use::Answered {
                    record_id: record.record_id,
                });
                Ok(futures::stream::iter(events.into_iter().map(Ok)).boxed())
            }
            Outcome::Failed { code, message } => {
                let error = format!("{code}: {message}");
                uses.push(Use::Failed {
                    record_id: record.record_id.clone(),
                    error: error.clone(),
                });
                Err(LlmError::Model {
                    provider: "bedrock".into(),
                    message: format!(
                        "batch record {} failed in the job ({error}); `cycling-ai batch retry-failed` asks for it on demand",
                        record.record_id
                    ),
                })
            }
        }
    }
}

#[async_trait::async_trait]
impl Provider for BatchAnswers {
    fn name(&self) -> &str {
        "bedrock"
    }

    async fn stream(&self, request: &Request) -> Result<EventStream, LlmError> {
        self.stream_counted(request).await.0
    }

    async fn stream_counted(
        &self,
        request: &Request,
    ) -> (Result<EventStream, LlmError>, Option<AttemptCounter>) {
        match self.take(request).await {
            // Answered by the job: no HTTP attempt now.
            Some(record) => (self.answer(request, record), Some(AttemptCounter::new())),
            None => self.on_demand.stream_counted(request).await,
        }
    }

    async fn answers_from_batch(&self, request: &Request) -> bool {
        match self.body(request).await {
            Some(body) => self.position(&body).is_some(),
            None => false,
        }
    }

    async fn model_names(&self) -> Vec<String> {
        self.on_demand.model_names().await
    }
}
