//! Intelligent prompt routing: the default prompt router of a model family, and the account id
//! its ARN needs (STS `GetCallerIdentity`). A router ARN is passed as the model id; the model it
//! chose comes back in the trace (`promptRouter.invokedModelId`) and prices the call.
//!
//! Default routers (AWS user guide "Understanding intelligent prompt routing in Amazon Bedrock",
//! docs.aws.amazon.com/bedrock/latest/userguide/prompt-routing.html, and the router ids of the
//! AWS CDK's `DefaultPromptRouterIdentifier`; checked 2026-12): `anthropic.claude:1` routes
//! between Claude 3.5 Haiku and Claude 3.5 Sonnet, `meta.llama:1` between Llama 3.1 8B and 70B,
//! `amazon.nova:1` between Nova Lite and Nova Pro. A router exists where its family's models
//! support routing; the regions below are that table's (on-demand or inference profile).

use super::BedrockOptions;
use crate::error::LlmError;

/// A model family with a default prompt router.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouterFamily {
    Claude,
    Llama,
    Nova,
}

impl RouterFamily {
    /// The names `--routing` and the config's `routing:` take.
    pub const NAMES: [&'static str; 3] = ["claude", "llama", "nova"];

    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "claude" => Some(Self::Claude),
            "llama" => Some(Self::Llama),
            "nova" => Some(Self::Nova),
            _ => None,
        }
    }

    /// The default router's id, the last part of its ARN.
    pub fn router_id(self) -> &'static str {
        match self {
            Self::Claude => "anthropic.claude:1",
            Self::Llama => "meta.llama:1",
            Self::Nova => "amazon.nova:1",
        }
    }

    /// Regions where the family's routed models support prompt routing (AWS table above).
    pub fn regions(self) -> &'static [&'static str] {
        match self {
            Self::Claude => &[
                "us-east-1",
                "us-east-2",
                "us-west-2",
                "us-gov-east-1",
                "us-gov-west-1",
                "ap-northeast-1",
                "ap-northeast-2",
                "ap-south-1",
                "ap-southeast-2",
                "eu-central-1",
                "eu-west-1",
                "eu-west-3",
            ],
            Self::Llama => &["us-east-1", "us-east-2", "us-west-2"],
            Self::Nova => &[
                "us-east-1",
                "us-east-2",
                "us-west-2",
                "us-gov-west-1",
                "ap-northeast-1",
                "ap-northeast-2",
                "ap-south-1",
                "ap-southeast-2",
                "eu-central-1",
                "eu-west-1",
                "eu-west-3",
            ],
        }
    }
}

/// A text check for the `routing` setting.
pub fn check_routing(name: &str) -> Result<(), String> {
    RouterFamily::parse(name).map(drop).ok_or_else(|| {
        format!(
            "`{name}` is not a router family (expected {})",
            RouterFamily::NAMES.join(", ")
        )
    })
}

/// A text check for the `aws_account_id` setting: twelve digits.
pub fn check_account_id(id: &str) -> Result<(), String> {
    if id.len() == 12 && id.chars().all(|c| c.is_ascii_digit()) {
        Ok(())
    } else {
        Err(format!("`{id}` is not an AWS account id (12 digits)"))
    }
}

/// The partition of a region's ARNs.
fn partition(region: &str) -> &'static str {
    if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else if region.starts_with("cn-") {
        "aws-cn"
    } else {
        "aws"
    }
}

/// A router given without region and account (`default-prompt-router/<id>` or
/// `prompt-router/<id>`, the resource part of its ARN), or `None` for any other model string.
pub fn router_resource(model: &str) -> Option<&str> {
    (model.starts_with("default-prompt-router/") || model.starts_with("prompt-router/"))
        .then_some(model)
}

/// The full ARN of a router resource in `region` of `account`.
pub fn router_arn(region: &str, account: &str, resource: &str) -> String {
    format!(
        "arn:{}:bedrock:{region}:{account}:{resource}",
        partition(region)
    )
}

/// The account the configured credentials belong to (STS `GetCallerIdentity`, which needs no
/// permission). The endpoint follows the SDK's own settings (`AWS_ENDPOINT_URL_STS`, …).
pub async fn caller_account(options: &BedrockOptions) -> Result<String, LlmError> {
    let sdk_config = super::load_sdk_config(options.region.clone(), options.profile.clone()).await;
    let out = aws_sdk_sts::Client::new(&sdk_config)
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| LlmError::Authentication {
            provider: "bedrock".into(),
            message: format!(
                "STS GetCallerIdentity (for the prompt router's account id) failed: {}; set providers.bedrock.aws_account_id in the config file instead",
                aws_sdk_sts::error::DisplayErrorContext(&e)
            ),
        })?;
    out.account()
        .map(str::to_string)
        .ok_or_else(|| LlmError::Authentication {
            provider: "bedrock".into(),
            message: "STS GetCallerIdentity answered without an account id".into(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn router_arns_follow_the_region_and_partition() {
        let r = router_resource("default-prompt-router/amazon.nova:1").unwrap();
        assert_eq!(
            router_arn("eu-west-1", "123456789012", r),
            "arn:aws:bedrock:eu-west-1:123456789012:default-prompt-router/amazon.nova:1"
        );
        assert_eq!(
            router_arn(
                "us-gov-west-1",
                "123456789012",
                "default-prompt-router/anthropic.claude:1"
            ),
            "arn:aws-us-gov:bedrock:us-gov-west-1:123456789012:default-prompt-router/anthropic.claude:1"
        );
        assert!(router_resource("arn:aws:bedrock:us-east-1:1:prompt-router/x").is_none());
        assert_eq!(
            RouterFamily::parse("llama").unwrap().router_id(),
            "meta.llama:1"
        );
        assert!(
            check_routing("mistral")
                .unwrap_err()
                .contains("claude, llama, nova")
        );
        assert!(check_account_id("12345678901").is_err());
        assert!(check_account_id("123456789012").is_ok());
    }
}
