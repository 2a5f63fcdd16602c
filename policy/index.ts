import { PolicyPack } from "@pulumi/policy";
import { policies } from "./policies";

// pulumi preview --policy-pack policy/ [--policy-pack-config examples/policy/baseline.json]
new PolicyPack("kvm-paravirt", { policies });
