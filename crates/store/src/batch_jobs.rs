//! Bedrock batch jobs submitted from this store, and which athlete and phase each of their
//! records belongs to (the job's output only carries the record ids).

use rusqlite::{OptionalExtension, Row, params};

use crate::{Store, StoreError, now_rfc3339};

/// A job as recorded at submission, with the last state the service reported.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchJob {
    pub id: i64,
    pub job_arn: String,
    pub job_name: String,
    pub model: String,
    pub model_id: String,
    pub region: String,
    pub role_arn: String,
    pub input_uri: String,
    pub output_uri: String,
    pub options_json: String,
    pub status: String,
    pub message: Option<String>,
    pub submitted_at: String,
    pub updated_at: String,
    pub collected_at: Option<String>,
}

/// What a new job row holds (the rest is set by the store).
#[derive(Debug, Clone, PartialEq)]
pub struct NewBatchJob<'a> {
    pub job_arn: &'a str,
    pub job_name: &'a str,
    pub model: &'a str,
    pub model_id: &'a str,
    pub region: &'a str,
    pub role_arn: &'a str,
    pub input_uri: &'a str,
    pub output_uri: &'a str,
    pub options_json: &'a str,
    pub status: &'a str,
}

/// One record of a job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchRecord {
    pub record_id: String,
    pub athlete_id: i64,
    pub phase: String,
    /// `submitted`, `answered`, `failed` or `retried`.
    pub state: String,
    pub error: Option<String>,
}

const JOB_COLUMNS: &str = "id, job_arn, job_name, model, model_id, region, role_arn, input_uri, \
     output_uri, options_json, status, message, submitted_at, updated_at, collected_at";

fn job_from_row(r: &Row<'_>) -> rusqlite::Result<BatchJob> {
    Ok(BatchJob {
        id: r.get(0)?,
        job_arn: r.get(1)?,
        job_name: r.get(2)?,
        model: r.get(3)?,
        model_id: r.get(4)?,
        region: r.get(5)?,
        role_arn: r.get(6)?,
        input_uri: r.get(7)?,
        output_uri: r.get(8)?,
        options_json: r.get(9)?,
        status: r.get(10)?,
        message: r.get(11)?,
        submitted_at: r.get(12)?,
        updated_at: r.get(13)?,
        collected_at: r.get(14)?,
    })
}

impl Store {
    /// Record a submitted job and its records (athlete id, phase) in one transaction.
    pub fn insert_batch_job(
        &mut self,
        job: &NewBatchJob<'_>,
        records: &[(String, i64, String)],
    ) -> Result<BatchJob, StoreError> {
        let now = now_rfc3339();
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO batch_jobs (job_arn, job_name, model, model_id, region, role_arn,
                 input_uri, output_uri, options_json, status, submitted_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11)",
            params![
                job.job_arn,
                job.job_name,
                job.model,
                job.model_id,
                job.region,
                job.role_arn,
                job.input_uri,
                job.output_uri,
                job.options_json,
                job.status,
                now
            ],
        )?;
        let id = tx.last_insert_rowid();
        {
            let mut stmt = tx.prepare(
                "INSERT INTO batch_records (job_id, record_id, athlete_id, phase)
                 VALUES (?1, ?2, ?3, ?4)",
            )?;
            for (record_id, athlete_id, phase) in records {
                stmt.execute(params![id, record_id, athlete_id, phase])?;
            }
        }
        tx.commit()?;
        self.batch_job(&id.to_string())?
            .ok_or(StoreError::Sqlite(rusqlite::Error::QueryReturnedNoRows))
    }

    /// A job by its row id, its ARN, its name, or the job id at the end of its ARN.
    pub fn batch_job(&self, key: &str) -> Result<Option<BatchJob>, StoreError> {
        let by_id = key.parse::<i64>().ok();
        Ok(self
            .conn
            .query_row(
                &format!(
                    "SELECT {JOB_COLUMNS} FROM batch_jobs
                     WHERE id = ?1 OR job_arn = ?2 OR job_name = ?2
                        OR job_arn LIKE '%/' || ?2
                     ORDER BY id DESC LIMIT 1"
                ),
                params![by_id, key],
                job_from_row,
            )
            .optional()?)
    }

    /// Every job, newest first.
    pub fn batch_jobs(&self) -> Result<Vec<BatchJob>, StoreError> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {JOB_COLUMNS} FROM batch_jobs ORDER BY id DESC"
        ))?;
        let rows = stmt.query_map([], job_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The state the service reported last.
    pub fn set_batch_job_status(
        &mut self,
        id: i64,
        status: &str,
        message: Option<&str>,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE batch_jobs SET status = ?2, message = ?3, updated_at = ?4 WHERE id = ?1",
            params![id, status, message, now_rfc3339()],
        )?;
        Ok(())
    }

    pub fn mark_batch_job_collected(&mut self, id: i64) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE batch_jobs SET collected_at = ?2 WHERE id = ?1",
            params![id, now_rfc3339()],
        )?;
        Ok(())
    }

    /// The records of a job, by record id.
    pub fn batch_records(&self, job_id: i64) -> Result<Vec<BatchRecord>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT record_id, athlete_id, phase, state, error FROM batch_records
             WHERE job_id = ?1 ORDER BY record_id",
        )?;
        let rows = stmt.query_map([job_id], |r| {
            Ok(BatchRecord {
                record_id: r.get(0)?,
                athlete_id: r.get(1)?,
                phase: r.get(2)?,
                state: r.get(3)?,
                error: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// What became of one record (`answered`, `failed` with its error, `retried`).
    pub fn set_batch_record_state(
        &mut self,
        job_id: i64,
        record_id: &str,
        state: &str,
        error: Option<&str>,
    ) -> Result<(), StoreError> {
        let n = self.conn.execute(
            "UPDATE batch_records SET state = ?3, error = ?4 WHERE job_id = ?1 AND record_id = ?2",
            params![job_id, record_id, state, error],
        )?;
        if n == 0 {
            return Err(StoreError::Sqlite(rusqlite::Error::QueryReturnedNoRows));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new_job<'a>(arn: &'a str, name: &'a str) -> NewBatchJob<'a> {
        NewBatchJob {
            job_arn: arn,
            job_name: name,
            model: "nova-pro",
            model_id: "us.amazon.nova-pro-v1:0",
            region: "us-east-1",
            role_arn: "arn:aws:iam::123456789012:role/batch",
            input_uri: "s3://b/in/x.jsonl",
            output_uri: "s3://b/out/",
            options_json: "{}",
            status: "Submitted",
        }
    }

    #[test]
    fn jobs_are_found_by_id_arn_name_or_arn_suffix_and_records_change_state() {
        let mut s = Store::open_in_memory().unwrap();
        let a = s.upsert_athlete("ann", None).unwrap();
        let b = s.upsert_athlete("bob", None).unwrap();
        let arn = "arn:aws:bedrock:us-east-1:123456789012:model-invocation-job/abcdef123456";
        let records = vec![
            ("ann-analysis".to_string(), a.id, "analysis".to_string()),
            ("bob-plan".to_string(), b.id, "plan".to_string()),
        ];
        let job = s
            .insert_batch_job(&new_job(arn, "cycling-ai-1"), &records)
            .unwrap();
        for key in [
            job.id.to_string().as_str(),
            arn,
            "cycling-ai-1",
            "abcdef123456",
        ] {
            assert_eq!(
                s.batch_job(key).unwrap().map(|j| j.id),
                Some(job.id),
                "{key}"
            );
        }
        assert!(s.batch_job("nope").unwrap().is_none());
        s.set_batch_job_status(job.id, "Completed", None).unwrap();
        s.set_batch_record_state(job.id, "bob-plan", "failed", Some("400: bad"))
            .unwrap();
        let rs = s.batch_records(job.id).unwrap();
        assert_eq!(rs[0].state, "submitted");
        assert_eq!(
            (rs[1].state.as_str(), rs[1].error.as_deref()),
            ("failed", Some("400: bad"))
        );
        assert!(
            s.set_batch_record_state(job.id, "nobody", "answered", None)
                .is_err()
        );
        assert_eq!(s.batch_jobs().unwrap()[0].status, "Completed");
        let err = s
            .conn
            .execute(
                "UPDATE batch_records SET state = 'lost' WHERE job_id = ?1",
                [job.id],
            )
            .unwrap_err();
        assert!(err.to_string().contains("CHECK"), "{err}");
    }
}
