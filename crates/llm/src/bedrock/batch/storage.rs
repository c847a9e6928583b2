//! The job's files on S3 through `aws-sdk-s3`: the input uploaded, the output listed and read.

use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;

use super::BatchError;
use super::s3uri::S3Uri;

fn s3_error<E>(operation: &str, uri: &S3Uri, e: SdkError<E>) -> BatchError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let (code, message) = match e.as_service_error() {
        Some(se) => (
            se.code().unwrap_or("Unknown").to_string(),
            se.message().unwrap_or("(no message)").to_string(),
        ),
        None => ("Transport".to_string(), DisplayErrorContext(e).to_string()),
    };
    BatchError::Storage {
        operation: operation.to_string(),
        uri: uri.to_string(),
        code,
        message,
    }
}

/// Upload `body` to `uri`.
pub async fn put(
    client: &aws_sdk_s3::Client,
    uri: &S3Uri,
    body: Vec<u8>,
) -> Result<(), BatchError> {
    client
        .put_object()
        .bucket(&uri.bucket)
        .key(&uri.key)
        .content_type("application/jsonl")
        .body(ByteStream::from(body))
        .send()
        .await
        .map_err(|e| s3_error("PutObject", uri, e))?;
    Ok(())
}

/// The object at `uri`, whole.
pub async fn get(client: &aws_sdk_s3::Client, uri: &S3Uri) -> Result<Vec<u8>, BatchError> {
    let out = client
        .get_object()
        .bucket(&uri.bucket)
        .key(&uri.key)
        .send()
        .await
        .map_err(|e| s3_error("GetObject", uri, e))?;
    let bytes = out.body.collect().await.map_err(|e| BatchError::Storage {
        operation: "GetObject".into(),
        uri: uri.to_string(),
        code: "Transport".into(),
        message: e.to_string(),
    })?;
    Ok(bytes.into_bytes().to_vec())
}

/// Every object under the folder `prefix`, as URIs, in key order.
pub async fn list(client: &aws_sdk_s3::Client, prefix: &S3Uri) -> Result<Vec<S3Uri>, BatchError> {
    let folder = prefix.as_folder();
    let mut keys = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = client
            .list_objects_v2()
            .bucket(&folder.bucket)
            .prefix(&folder.key)
            .set_continuation_token(token.clone())
            .send()
            .await
            .map_err(|e| s3_error("ListObjectsV2", &folder, e))?;
        for o in page.contents() {
            if let Some(k) = o.key() {
                keys.push(S3Uri {
                    bucket: folder.bucket.clone(),
                    key: k.to_string(),
                });
            }
        }
        token = page
            .next_continuation_token()
            .filter(|_| page.is_truncated() == Some(true))
            .map(str::to_string);
        if token.is_none() {
            keys.sort_by(|a, b| a.key.cmp(&b.key));
            return Ok(keys);
        }
    }
}
