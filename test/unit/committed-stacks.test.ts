// What is committed under stacks/ is environments only: never a clone's own encryption salt or an
// encrypted secret, which `npm run setup` and `pulumi config set --secret` add to the working copy
// (and which no other clone could decrypt: its first deploy fails with "incorrect passphrase").
import * as assert from "assert";
import { execFileSync } from "child_process";
import * as path from "path";

const ROOT = path.resolve(__dirname, "../..");
const git = (args: string[]) => execFileSync("git", args, { cwd: ROOT, encoding: "utf8" });

describe("committed stack files", () => {
    it("carry no encryption salt and no secure value (as staged for commit)", function () {
        let files: string[];
        try {
            files = git(["ls-files", "stacks"]).split("\n").filter((f) => f.endsWith(".yaml"));
        } catch {
            this.skip(); // not a git checkout (an unpacked release)
            return;
        }
        assert.ok(files.length > 0);
        const offending = files.filter((f) => /^encryptionsalt:|secure:/m.test(git(["show", `:${f}`])));
        assert.deepStrictEqual(offending, [], "restore them with `git checkout HEAD -- <file>` after `git restore --staged <file>`");
    });
});
