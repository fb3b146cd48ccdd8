-- Enum columns hold exactly the names of SPEC §1–§4: a second line behind strict binding
-- (StrictJson), so no path can store "3" or "public" again. NOT VALID: enforced for every new
-- or changed row without failing start-up on a row an older build let through; such rows are
-- listed by `SELECT gid FROM groups WHERE NOT (<check>)` and fixed by hand.
ALTER TABLE groups
    ADD CONSTRAINT groups_type_names CHECK (type IN ('Private', 'Public', 'ChatRoom', 'AVChatRoom', 'BChatRoom')) NOT VALID,
    ADD CONSTRAINT groups_apply_join_option_names CHECK (apply_join_option IN ('DisableApply', 'NeedPermission', 'FreeAccess')) NOT VALID,
    ADD CONSTRAINT groups_invite_option_names CHECK (invite_option IN ('Anyone', 'AdminsOnly', 'Disabled')) NOT VALID;
ALTER TABLE group_members
    ADD CONSTRAINT group_members_role_names CHECK (role IN ('Owner', 'Admin', 'Member')) NOT VALID,
    ADD CONSTRAINT group_members_msg_recv_option_names CHECK (msg_recv_option IN ('ReceiveAndNotify', 'ReceiveNoNotify', 'Discard')) NOT VALID;
ALTER TABLE pending_items
    ADD CONSTRAINT pending_items_type_names CHECK (type IN ('JoinRequest', 'Invitation')) NOT VALID,
    ADD CONSTRAINT pending_items_status_names CHECK (status IN ('Pending', 'Approved', 'Rejected', 'Expired', 'Canceled')) NOT VALID;
