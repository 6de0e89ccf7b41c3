// Helper for process_test.ts: starts `sleep 30` (one that ignores SIGTERM too when asked), prints
// the pids, then exits the runtime. The test checks the children did not outlive this process.
import process from "node:process";
import { spawn } from "../process.ts";

const plain = spawn("sleep", ["30"], { stdout: "ignore", stderr: "ignore" });
const stubborn = process.argv.includes("--stubborn")
  ? spawn("/bin/sh", ["-c", "trap '' TERM; while :; do sleep 0.1; done"], {
    stdout: "ignore",
    stderr: "ignore",
  })
  : undefined;
console.log(JSON.stringify({ pids: [plain.pid, ...(stubborn ? [stubborn.pid] : [])] }));
setTimeout(() => process.exit(0), 100);
