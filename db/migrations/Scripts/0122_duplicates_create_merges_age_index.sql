-- Merge records past the undo window are pruned by the retention sweep (Duplicates:MergeRecordRetention, 30 days):
-- its bounded deletes find the oldest records by this index instead of scanning every record each pass.
CREATE INDEX merges_merged_at ON duplicates.merges (merged_at);
