"""Chain access shared by every package: ABIs, deployment file, typed data, the submitter."""
